#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The benchmark generator writes what cleanup writes (issue 6).

qpurge-gen fills the deferred queue of a stopped private instance; the
instance is started (its postsuper structure check accepts the names: each
short ID's inode part is the file's inode) and Postfix itself reads the
files: postqueue -j shows every generated message with the sender,
recipients and arrival time the generator recorded, and postcat prints the
same envelope records, in the same order, for a generated file as for a
file cleanup wrote for a sendmail submission of the same shape. With
--mixed-fraction, the mixed messages Postfix lists have their first
recipient in example.com and the others elsewhere, and qpurge --mixed cancel
plans to cancel exactly that recipient in exactly those messages.
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, Instance, check, finish, run, skip_unless_possible  # noqa: E402

GEN = os.path.join(os.path.dirname(QPURGE), "qpurge-gen")
KIND = re.compile(r"^\s*\d+ ([a-z_]+):")


def kinds(inst, qid):
    out = run(["postcat", "-c", inst.conf, "-e", "-o", "-q", qid]).stdout
    return [m.group(1) for m in map(KIND.match, out.splitlines()) if m]


def main():
    skip_unless_possible()
    if not os.access(GEN, os.X_OK):
        print(f"FAIL: no generator at {GEN}")
        sys.exit(1)
    with Instance("gen") as inst:
        inst.stop()
        manifest = os.path.join(inst.root, "manifest.jsonl")
        run([GEN, "--spool", inst.spool, "--count", "300", "--seed", "3", "--mixed-fraction", "0.3",
             "--manifest", manifest])
        inst.start()
        time.sleep(1)
        want = {}
        with open(manifest) as f:
            for line in f:
                m = json.loads(line)
                want[m["queue_id"]] = m
        got = {m["queue_id"]: m for m in inst.postqueue()}
        check(set(want) <= set(got), f"postqueue -j lists all {len(want)} generated messages under their names")
        bad = [qid for qid, m in want.items() if qid in got and (
            got[qid]["sender"] != m["sender"] or got[qid]["arrival_time"] != m["arrival_time"] or
            sorted(r["address"] for r in got[qid]["recipients"]) !=
            sorted({r["address"] if isinstance(r, dict) else r for r in m["recipients"]}))]
        check(not bad, f"postqueue -j reads sender, arrival time and recipients as generated ({bad[:3]})")
        mixed = {q for q, m in want.items() if m["mixed"]}
        in_domain = [(q, [r["address"].endswith("@example.com") for r in got[q]["recipients"]]) for q in mixed if q in got]
        check(len(mixed) >= 30 and all(len(d) >= 2 and d.count(True) == 1 for _, d in in_domain),
              f"postqueue -j lists {len(mixed)} mixed messages, each with one recipient in example.com and others not")
        p = run([QPURGE, "-c", inst.conf, "--domain", "example.com", "--mixed", "cancel", "--dry-run", "--format",
                 "json"], check_rc=False)
        plan = [json.loads(l) for l in p.stdout.splitlines()]
        check({m["queue_id"] for m in plan if m.get("cancel")} == mixed and all(
            [r["address"] for r in m["recipients"] if r["matched"]] == [want[m["queue_id"]]["recipients"][0]["address"]]
            for m in plan if m.get("cancel")), "qpurge --mixed cancel plans to cancel the example.com recipient of each")
        p = run([QPURGE, "-c", inst.conf, "--all", "--dry-run", "--format", "json"], check_rc=False)
        ours = {json.loads(l)["queue_id"]: json.loads(l) for l in p.stdout.splitlines()}
        check(all(ours[q]["message_size"] == got[q]["message_size"] for q in want if q in got and q in ours),
              "message_size as postqueue -j reports it")
        # A real file of the same shape: one recipient, sendmail submission.
        before = inst.ids()
        run(["sendmail", "-C", inst.conf, "-f", "sender1@domain1.net", "user1@example.com"],
            input="Subject: x\nFrom: Example <news@example.com>\n\nbody\n")
        real = None
        for _ in range(50):
            time.sleep(0.2)
            new = inst.ids() - before
            if new:
                real = new.pop()
                break
        gen_one = next(q for q, m in want.items() if len(m["recipients"]) == 1 and m["sender"] != "MAILER-DAEMON")
        k_real, k_gen = kinds(inst, real), kinds(inst, gen_one)
        print("real:", k_real)
        print("generated:", k_gen)
        check(k_real == k_gen and len(k_real) > 5, "postcat prints the same envelope records in the same order")
    finish()


if __name__ == "__main__":
    main()
