#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qpurge --shape equals qshape (issue 5).

A real queue is built with the private Postfix instance, stopped, and aged:
each queue file's arrival time (the seconds of its T record) is moved back in
place to a chosen bucket's middle, with the same number of digits, so every
record keeps its length and offset and the file stays exactly as valid to
Postfix (postcat and postqueue read it; it is the field qshape and
postqueue -j report). Then `qpurge --shape --all --queue Q` is compared
with `qshape Q` for default, -s, -b, -t, -l, -p -m and -w: identical header
and rows, except that rows with the same count and the same name length may
come in another order (qshape leaves that to Perl's hash order), and the
test knows those groups. Force-expired files, which qshape silently drops,
must be counted in qpurge's note.
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Instance, QPURGE, check, finish, run, skip_unless_possible  # noqa: E402

AGES_MIN = [1, 2.5, 7, 15, 30, 60, 120, 240, 480, 960, 2000, 5000, 20000]


def age_files(spool, now):
    """Moves each file's T seconds back to a bucket middle, in place."""
    n = 0
    for queue in ("deferred", "hold"):
        for dirpath, _, files in os.walk(os.path.join(spool, queue)):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                with open(path, "r+b") as f:
                    data = f.read(4096)
                    # C record (type, 1 length byte 0x5f, 95 bytes), then T.
                    if data[:1] != b"C" or data[97:98] != b"T":
                        continue
                    length = data[98]
                    payload = data[99:99 + length]
                    secs = payload.split(b" ")[0]
                    age = AGES_MIN[n % len(AGES_MIN)] * 60
                    new = str(now - int(age)).encode()
                    if len(new) != len(secs):
                        continue
                    f.seek(99)
                    f.write(new)
                    n += 1
    return n


def rows(text):
    lines = text.rstrip("\n").split("\n")
    return lines[0], lines[1:]


def same_table(ours, theirs):
    """Equal, allowing reordering only within runs of rows with equal count
    and equal domain length (qshape's undefined order)."""
    h1, r1 = rows(ours)
    h2, r2 = rows(theirs)
    if h1 != h2 or len(r1) != len(r2):
        return False

    def key(line):
        parts = line.split()
        return (int(parts[1]), len(parts[0]))

    def groups(rs):
        out, cur, k = [], [], None
        for line in rs:
            if key(line) != k and cur:
                out.append(sorted(cur))
                cur = []
            k = key(line)
            cur.append(line)
        if cur:
            out.append(sorted(cur))
        return out

    return groups(r1) == groups(r2)


def main():
    skip_unless_possible()
    if not os.access("/usr/sbin/qshape", os.X_OK):
        print("SKIP: no qshape")
        sys.exit(77)
    with Instance("shape", milter=True) as inst:
        inst.fill(int(os.environ.get("QPURGE_IT_SHAPE_COUNT", "600")), seed=5)
        inst.stop()
        now = int(time.time())
        aged = age_files(inst.spool, now)
        check(aged > 100, f"{aged} files aged across the buckets")
        variants = [([], []), (["-s"], ["--shape", "sender"]), (["-b", "5"], ["--buckets", "5"]),
                    (["-t", "10"], ["--bucket-minutes", "10"]), (["-l"], ["--linear"]),
                    (["-p", "-m", "2"], ["--parents", "--min-subdomains", "2"]), (["-w", "120"], ["--width", "120"]),
                    (["-s", "-l", "-b", "6", "-t", "3"], ["--shape", "sender", "--linear", "--buckets", "6",
                                                          "--bucket-minutes", "3"])]
        for queue in ("deferred", "hold"):
            for qopts, ours_opts in variants:
                if "--shape" not in ours_opts:
                    ours_opts = ["--shape"] + ours_opts
                # Same second for both, so the buckets agree.
                for _ in range(3):
                    t0 = int(time.time())
                    theirs = run(["qshape", "-c", inst.conf, *qopts, queue]).stdout
                    p = run([QPURGE, "-c", inst.conf, *ours_opts, "--all", "--queue", queue], check_rc=False)
                    if int(time.time()) == t0:
                        break
                label = f"qshape {' '.join(qopts + [queue])}"
                ok = same_table(p.stdout, theirs)
                if not ok:
                    print("qpurge:\n" + p.stdout + "qshape:\n" + theirs)
                check(ok, f"{label}: identical table ({len(theirs.splitlines()) - 1} rows)")
        # Force-expired mail: qshape drops it silently, qpurge says so.
        p = run([QPURGE, "-c", inst.conf, "--shape", "--all", "--queue", "hold"], check_rc=False)
        expired = run(["find", os.path.join(inst.spool, "hold"), "-type", "f", "-perm", "-0010"]).stdout.split()
        m = re.search(r"\((\d+) messages? not shown by qshape: (.*)\)", p.stderr)
        check(expired and m and f"{len(expired)} force-expired" in m.group(2),
              f"{len(expired)} force-expired held messages counted in the note ({p.stderr.strip()[:200]})")
        p = run([QPURGE, "-c", inst.conf, "--shape", "--all", "--queue", "deferred", "--format", "json"], check_rc=False)
        doc = json.loads(p.stdout)
        check(doc["columns"][0] == "T" and any(r["domain"] == "TOTAL" for r in doc["rows"]),
              "--format json gives the table as data")
    finish()


if __name__ == "__main__":
    main()
