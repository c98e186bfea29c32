# SPDX-License-Identifier: MIT
# cpack-deb.cmake - CPack pre-build script for the .deb (CPACK_PRE_BUILD_SCRIPTS
# in CMakeLists.txt): run after `cmake --install` has filled CPack's staging
# tree and before the package is made from it, it adds what Debian policy
# asks and the generic install leaves out:
#   usr/share/doc/qpurge/copyright            packaging/debian/copyright (DEP-5)
#   usr/share/doc/qpurge/changelog.Debian.gz  packaging/debian/changelog, gzip -9n
#   usr/share/doc/qpurge/README.md.gz         README.md, gzip -9n (policy 12.3)
#   usr/share/lintian/overrides/qpurge        packaging/debian/lintian-overrides/
#   usr/share/man/man8/qpurge.8.gz            the installed page, gzip -9n (policy 12.1)
#   lib/systemd/system/qpurge-metrics.{service,timer}   packaging/systemd/
#   etc/fail2ban/action.d/qpurge.conf         packaging/fail2ban/action.d/ (a
#                                             conffile: packaging/debian/conffiles)
# Also strips usr/sbin/qpurge of .comment and .note. Every added file 0644. Fails the package (FATAL_ERROR) when a source is missing.
set(src "${CPACK_QPURGE_SOURCE_DIR}")
set(root "${CPACK_TEMPORARY_DIRECTORY}")
if(NOT IS_DIRECTORY "${src}" OR NOT IS_DIRECTORY "${root}/usr")
  message(FATAL_ERROR "cpack-deb.cmake: no source dir '${src}' or staging tree '${root}/usr'")
endif()

# Writes gzip -9n of FROM to TO (no name, no time stamp: reproducible).
function(qpurge_gzip from to)
  get_filename_component(dir "${to}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  execute_process(COMMAND gzip -9nc "${from}" OUTPUT_FILE "${to}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cpack-deb.cmake: gzip -9n ${from} failed: ${rc}")
  endif()
  file(CHMOD "${to}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()

# Copies FROM into the directory TO_DIR, mode 0644.
function(qpurge_copy from to_dir)
  if(NOT EXISTS "${from}")
    message(FATAL_ERROR "cpack-deb.cmake: ${from} is missing")
  endif()
  # file(COPY), not file(INSTALL): CPack sets DESTDIR, which INSTALL would add.
  file(COPY "${from}" DESTINATION "${to_dir}"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()

# CPACK_STRIP_FILES has stripped the symbols; drop the compiler's .comment
# and .note sections too, as dh_strip does.
execute_process(COMMAND "${CPACK_QPURGE_STRIP}" --remove-section=.comment --remove-section=.note
                        "${root}/usr/sbin/qpurge" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cpack-deb.cmake: ${CPACK_QPURGE_STRIP} on usr/sbin/qpurge failed: ${rc}")
endif()

set(doc "${root}/usr/share/doc/qpurge")
qpurge_copy("${src}/packaging/debian/copyright" "${doc}")
qpurge_copy("${src}/packaging/debian/lintian-overrides/qpurge" "${root}/usr/share/lintian/overrides")
qpurge_gzip("${src}/packaging/debian/changelog" "${doc}/changelog.Debian.gz")
qpurge_gzip("${src}/README.md" "${doc}/README.md.gz")

set(man "${root}/usr/share/man/man8/qpurge.8")
if(NOT EXISTS "${man}")
  message(FATAL_ERROR "cpack-deb.cmake: the install left no ${man}")
endif()
qpurge_gzip("${man}" "${man}.gz")
file(REMOVE "${man}")

foreach(unit qpurge-metrics.service qpurge-metrics.timer)
  qpurge_copy("${src}/packaging/systemd/${unit}" "${root}/lib/systemd/system")
endforeach()
qpurge_copy("${src}/packaging/fail2ban/action.d/qpurge.conf" "${root}/etc/fail2ban/action.d")
