#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Real purges judged by Postfix (issues 2 and 3).

For each selection, the expected IDs are computed from postqueue -j with jq;
qpurge purges for real; postqueue -j must then show exactly those messages
gone and every other one still there, and qpurge's report must agree.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Instance, check, finish, jq, skip_unless_possible  # noqa: E402

# jq helpers: the domain is what follows the last @, lower-cased.
DEFS = r'''
def dom: ascii_downcase | (split("@") | if length > 1 then last else null end);
def rdoms: [.recipients[].address | dom];
def sdom: if .sender == "MAILER-DAEMON" then null else (.sender | dom) end;
def ids: .queue_id;
'''

# (label, qpurge arguments, jq filter selecting the messages that must go)
SELECTIONS = [
    ("recipient domain, mixed skipped",
     ["--recipient-domain", "example.com"],
     '(rdoms | length > 0) and (rdoms | all(. == "example.com"))'),
    ("sender domain",
     ["--sender-domain", "sender.example"],
     'sdom == "sender.example"'),
    ("null sender",
     ["--sender", "MAILER-DAEMON"],
     '.sender == "MAILER-DAEMON"'),
    ("subdomains only (.example.com)",
     ["--recipient-domain", ".example.com"],
     '(rdoms | length > 0) and (rdoms | all(. != null and endswith(".example.com")))'),
    ("--domain: sender or all recipients",
     ["--domain", "notexample.com"],
     '(rdoms | length > 0) and (sdom == "notexample.com" or (rdoms | all(. == "notexample.com")))'),
    ("mixed included",
     ["--recipient-domain", "example.org", "--mixed", "include"],
     'rdoms | any(. == "example.org")'),
    ("queue restriction: hold only",
     ["--queue", "hold", "--all"],
     '.queue_name == "hold"'),
]


def pick_sender(msgs):
    """A real sender address present in the queue, for the exact-address case."""
    for m in msgs:
        s = m["sender"]
        if "@" in s and s != "MAILER-DAEMON":
            return s
    return None


def pick_recipient(msgs):
    """A recipient that is the only one of its message, so something is selected."""
    for m in msgs:
        if len(m["recipients"]) == 1 and "@" in m["recipients"][0]["address"]:
            return m["recipients"][0]["address"]
    return None


def purge_and_judge(inst, label, args, jq_filter):
    before_lines = inst.postqueue_lines()
    before = {l for l in jq(DEFS + ".queue_id", before_lines)}
    expected = set(jq(DEFS + f"select({jq_filter}) | .queue_id", before_lines))
    p = inst.qpurge(*args, "--yes", "--format", "ids")
    removed_reported = set(p.stdout.split())
    after = inst.ids()
    gone = before - after
    print(f"-- {label}: qpurge {' '.join(args)}: expected {len(expected)}, gone {len(gone)}, exit {p.returncode}")
    if p.stderr.strip():
        print(p.stderr.strip()[-1500:])
    check(gone == expected, f"{label}: exactly the selected messages are gone"
          f" (missing {sorted(expected - gone)[:5]}, extra {sorted(gone - expected)[:5]})")
    check(after == before - expected, f"{label}: every other message is still there")
    check(removed_reported == expected, f"{label}: qpurge reports exactly those as removed")
    check(p.returncode == (0 if expected else 1), f"{label}: exit status {p.returncode}")


def main():
    skip_unless_possible()
    count = int(os.environ.get("QPURGE_IT_COUNT", "2000"))
    with Instance("purge") as inst:
        inst.fill(count)
        msgs = inst.postqueue()
        check(len(msgs) >= count * 0.9, f"corpus has {len(msgs)} messages")
        # A dry run changes nothing.
        before = inst.ids()
        p = inst.qpurge("--domain", "example.com", "--dry-run")
        check(p.returncode in (0, 1) and inst.ids() == before, "dry run changes nothing")
        sender = pick_sender(msgs)
        rcpt = pick_recipient(msgs)
        selections = list(SELECTIONS)
        if sender:
            selections.insert(2, ("sender address, any case", ["--sender", sender.upper()],
                                  f'(.sender | ascii_downcase) == "{sender.lower()}"'))
        if rcpt:
            selections.insert(3, ("recipient address", ["--recipient", rcpt],
                                  f'(.recipients | length > 0) and (.recipients | all((.address | ascii_downcase) == "{rcpt.lower()}"))'))
        for label, args, flt in selections:
            purge_and_judge(inst, label, args, flt)
        # A --queue restriction leaves the same selection in other queues alone.
        lines = inst.postqueue_lines()
        elsewhere = set(jq(DEFS + 'select(.queue_name != "deferred") | .queue_id', lines))
        purge_and_judge(inst, "queue restriction: deferred only", ["--queue", "deferred", "--domain", "example.net"],
                        '.queue_name == "deferred" and (rdoms | length > 0) and '
                        '(sdom == "example.net" or (rdoms | all(. == "example.net")))')
        check(elsewhere <= inst.ids(), "messages outside the deferred queue untouched")
    finish()


if __name__ == "__main__":
    main()
