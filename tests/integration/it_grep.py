#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The grep/xargs script against qpurge on the same corpus (issue 3).

The script operators run today,

    find SPOOL/deferred/*/ -type f -exec grep -l "$match" {} \\; \\
      | xargs -n1 basename | xargs -n1 postsuper -d

is run for real on a copy of the corpus (a second configuration whose
queue_directory is the copy; postsuper works on a stopped instance), with
match=example.com, the recipient domain qpurge is asked for. The test records
how many messages the script removed that qpurge rightly leaves: messages
none of whose pending recipients is in example.com, judged by postqueue -j
with jq. The figure is printed as "FIGURE: ..." for the README.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Instance, check, finish, jq, run, skip_unless_possible  # noqa: E402


def main():
    skip_unless_possible()
    count = int(os.environ.get("QPURGE_IT_COUNT", "2000"))
    with Instance("grep") as inst:
        inst.fill(count)
        lines = inst.postqueue_lines()
        deferred = set(jq('select(.queue_name == "deferred") | .queue_id', lines))
        # What the selection really is, by postqueue -j: every pending
        # recipient in example.com (mixed messages are left alone).
        truly = set(jq('select(.queue_name == "deferred" and (.recipients | length > 0) and '
                       '(.recipients | all(.address | ascii_downcase | endswith("@example.com")))) | .queue_id', lines))
        touches = set(jq('select(.queue_name == "deferred" and '
                         '(.recipients | any(.address | ascii_downcase | endswith("@example.com")))) | .queue_id', lines))
        p = inst.qpurge("--recipient-domain", "example.com", "--queue", "deferred", "--dry-run", "--format", "ids")
        ours = set(p.stdout.split())
        check(ours == truly, f"qpurge selects exactly what postqueue -j says ({len(ours)} messages)")

        # A copy of the spool under a second configuration; the instance is
        # stopped so neither copy moves.
        inst.stop()
        copy = os.path.join(inst.root, "copy")
        os.makedirs(os.path.join(copy, "spool"))
        for q in ("maildrop", "incoming", "active", "deferred", "hold", "defer", "bounce", "trace"):
            if os.path.isdir(os.path.join(inst.spool, q)):  # cp -a keeps the postfix ownership
                run(["cp", "-a", os.path.join(inst.spool, q), os.path.join(copy, "spool", q)])
        os.makedirs(os.path.join(copy, "conf"))
        with open(os.path.join(inst.conf, "main.cf")) as f:
            main_cf = f.read().replace(inst.spool, os.path.join(copy, "spool"))
        with open(os.path.join(copy, "conf", "main.cf"), "w") as f:
            f.write(main_cf)
        shutil.copy(os.path.join(inst.conf, "master.cf"), os.path.join(copy, "conf", "master.cf"))
        script = (f'find {copy}/spool/deferred/*/ -type f -exec grep -l "example.com" {{}} \\; '
                  f'| xargs -n1 basename | xargs -n1 postsuper -c {copy}/conf -d')
        t = time.time()
        p = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
        took = time.time() - t
        removed = {l.split(":")[1].strip() for l in p.stderr.splitlines() if l.endswith(": removed")}
        if not removed:
            print(p.stderr[-1500:])
        wrong = removed - truly
        beyond_touch = removed - touches
        print(f"FIGURE: on {len(deferred)} deferred messages, grep/xargs for example.com removed {len(removed)} "
              f"in {took:.1f}s; qpurge --recipient-domain example.com selects {len(ours)}; the script removed "
              f"{len(wrong)} messages qpurge rightly leaves ({len(beyond_touch)} with no recipient in example.com "
              f"at all, {len(wrong) - len(beyond_touch)} mixed)")
        check(truly <= removed, "the script also removed everything qpurge selects (it over-selects, never under)")
        check(len(wrong) > len(truly), "the script removed more wrong messages than right ones")
    finish()


if __name__ == "__main__":
    main()
