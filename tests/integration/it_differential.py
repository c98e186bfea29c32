#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qpurge reads every queue file as Postfix does (issue 3).

1. For every message of a real instance, qpurge's view (--all --dry-run
   --format json --detail) equals postqueue -j on queue_name, queue_id,
   arrival_time, message_size, forced_expire, sender and the set of pending
   recipients: zero differences, each printed with the file that caused it.
   Deliberate differences are named, not skipped:
     - null sender: qpurge says "", postqueue -j says MAILER-DAEMON;
     - redirect: postqueue -j also lists the redirect target (from the defer
       log); qpurge lists the queue file's recipients and the > record apart;
     - postqueue -j shows addresses through Postfix's printable(): bytes that
       are not printable UTF-8 become '?', and quotes local parts that need it.
2. For a sample of files (every file when there are few), the records qpurge
   reads (sender, recipients with offsets, done and canceled recipients,
   named attributes) equal what postcat -e -v -o prints.

Runs on a short-ID instance (with the test Milter, so pointer records are
everywhere) and a long-ID instance.
"""
import json
import os
import random
import re
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Instance, check, finish, run, skip_unless_possible  # noqa: E402

QUEUES = ["--queue", "maildrop", "--queue", "incoming", "--queue", "active", "--queue", "deferred",
          "--queue", "hold"]
ATEXT = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def printable(s):
    """Postfix printable() as showq applies it: non-printable -> '?'."""
    out = []
    for ch in s:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF or o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0:
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)


def quoted(addr):
    """Postfix quote_822_local(): quote a local part that is not a dot-atom."""
    if addr == "":
        return addr
    at = addr.rfind("@")
    local, rest = (addr, "") if at < 0 else (addr[:at], addr[at:])
    if local == "" or ATEXT.match(local):
        return addr
    return '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"' + rest


def shown(addr):
    return printable(quoted(addr))


def compare_with_postqueue(inst, label):
    pq = {(m["queue_name"], m["queue_id"]): m for m in inst.postqueue()}
    p = inst.qpurge("--all", "--dry-run", "--format", "json", "--detail", *QUEUES)
    ours = {}
    for line in p.stdout.splitlines():
        m = json.loads(line)
        ours[(m["queue_name"], m["queue_id"])] = m
    check(p.returncode == 0, f"{label}: qpurge --all exit {p.returncode} ({p.stderr.strip()[-300:]})")
    check(set(ours) == set(pq), f"{label}: same {len(pq)} messages in both "
          f"(only postqueue: {sorted(set(pq) - set(ours))[:5]}, only qpurge: {sorted(set(ours) - set(pq))[:5]})")
    diffs = []
    deliberate = Counter()
    for key in sorted(set(ours) & set(pq)):
        a, b = ours[key], pq[key]
        path = a["path"]
        for f in ("arrival_time", "message_size", "forced_expire"):
            if a[f] != b[f]:
                diffs.append(f"{path}: {f}: qpurge {a[f]} postqueue {b[f]}")
        if a["sender"] == "":
            deliberate["null sender shown as MAILER-DAEMON"] += 1
            if b["sender"] != "MAILER-DAEMON":
                diffs.append(f"{path}: null sender: postqueue says {b['sender']!r}")
        elif shown(a["sender"]) != b["sender"]:
            diffs.append(f"{path}: sender: qpurge {a['sender']!r} postqueue {b['sender']!r}")
        elif shown(a["sender"]) != a["sender"]:
            deliberate["sender through printable()/quoting"] += 1
        ra = {shown(r["address"]) for r in a["recipients"]}
        rb = {r["address"] for r in b["recipients"]}
        extra = rb - ra
        if extra and a.get("redirect_to") and extra <= {shown(a["redirect_to"])}:
            deliberate["redirect target listed by postqueue -j"] += 1
            extra = set()
        if ra - rb or extra:
            diffs.append(f"{path}: recipients: only qpurge {sorted(ra - rb)}, only postqueue {sorted(extra)}")
    for d in diffs[:50]:
        print("  DIFF " + d)
    for what, n in deliberate.items():
        print(f"  deliberate difference ({what}): {n} messages")
    check(not diffs, f"{label}: zero differences with postqueue -j over {len(pq)} messages ({len(diffs)} found)")
    return ours


RECORD = re.compile(r"^\s*(\d+) ([a-z_]+): ?(.*)$")


def postcat_records(inst, path):
    out = run(["postcat", "-c", inst.conf, "-e", "-v", "-o", os.path.join(inst.spool, path)]).stdout
    rec = {"sender": None, "recipient": [], "done_recipient": [], "canceled_recipient": [], "attributes": Counter(),
           "create_time": False}
    for line in out.splitlines():
        m = RECORD.match(line)
        if not m:
            continue
        off, kind, value = int(m.group(1)), m.group(2), m.group(3)
        if kind == "sender" and rec["sender"] is None:
            rec["sender"] = value
        elif kind in ("recipient", "done_recipient", "canceled_recipient"):
            rec[kind].append((off, value))
        elif kind == "named_attribute":
            name = value.split("=", 1)[0].strip()
            if name not in ("dsn_orig_rcpt", "notify_flags"):
                rec["attributes"][value] += 1
        elif kind == "create_time":
            rec["create_time"] = True
    return rec


def compare_with_postcat(inst, ours, label, sample):
    keys = sorted(ours)
    random.Random(7).shuffle(keys)
    diffs = []
    for key in keys[:sample]:
        m = ours[key]
        pc = postcat_records(inst, m["path"])
        where = m["path"]
        if pc["sender"] != m["sender"]:
            diffs.append(f"{where}: sender {m['sender']!r} vs postcat {pc['sender']!r}")
        for kind, field in (("recipient", "recipients"), ("done_recipient", "done_recipients"),
                            ("canceled_recipient", "canceled_recipients")):
            mine = [(r["offset"], r["address"]) for r in m[field]]
            if sorted(mine) != sorted(pc[kind]):
                diffs.append(f"{where}: {kind}: {mine} vs postcat {pc[kind]}")
        attrs = Counter(f"{k}={v}" for k, v in m["attributes"].items()
                        if k not in ("create_time", "envelope_id", "ret_flags"))
        if attrs != pc["attributes"]:
            diffs.append(f"{where}: attributes {dict(attrs)} vs postcat {dict(pc['attributes'])}")
        if ("create_time" in m["attributes"]) != pc["create_time"]:
            diffs.append(f"{where}: create_time presence differs")
    for d in diffs[:30]:
        print("  DIFF " + d)
    check(not diffs, f"{label}: records equal postcat -e -v -o on {min(sample, len(keys))} files ({len(diffs)} differences)")


def main():
    skip_unless_possible()
    count = int(os.environ.get("QPURGE_IT_COUNT", "2000"))
    with Instance("diff", milter=True, smtpd_port=2525) as inst:
        inst.fill(count)
        ours = compare_with_postqueue(inst, "short IDs + milter")
        compare_with_postcat(inst, ours, "short IDs + milter", sample=int(os.environ.get("QPURGE_IT_POSTCAT", "300")))
    with Instance("diff-long", long_ids=True) as inst:
        inst.fill(max(200, count // 10), seed=2)
        ours = compare_with_postqueue(inst, "long IDs")
        compare_with_postcat(inst, ours, "long IDs", sample=100)
    finish()


if __name__ == "__main__":
    main()
