// version.h - qpurge's version, for --version and the audit records.
#ifndef QPURGE_VERSION_H_
#define QPURGE_VERSION_H_

namespace qpurge {
inline constexpr const char kQpurgeVersion[] = QPURGE_VERSION;
}  // namespace qpurge

#endif  // QPURGE_VERSION_H_
