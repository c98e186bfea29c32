#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Selectors operators know, actions, and the safety features (issue 4),
on a real instance: a SASL-user purge of mail submitted through smtpd with
AUTH, a reason-based purge, each action, --via-hold with one message changed
between the phases, --apply-plan after messages were deleted or requeued,
--max refusing, and the audit log.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Instance, check, finish, jq, run, skip_unless_possible  # noqa: E402

PORT = "2526"


def send(inst, sender, rcpts, subject="test", extra_headers=""):
    """sendmail submission; returns the new queue ID."""
    before = inst.ids()
    msg = f"Subject: {subject}\n{extra_headers}\nbody\n"
    run(["sendmail", "-C", inst.conf, "-f", sender, *rcpts], input=msg)
    return wait_new(inst, before)


def wait_new(inst, before, n=1):
    for _ in range(200):
        inst.settle()
        new = inst.ids() - before
        if len(new) >= n:
            return new.pop() if n == 1 else new
        time.sleep(0.1)
    raise RuntimeError("message did not arrive")


def swaks(inst, user, sender, rcpt):
    before = inst.ids()
    p = run(["swaks", "--server", f"127.0.0.1:{PORT}", "--auth", "PLAIN", "--auth-user", user,
             "--auth-password", "secret", "--from", sender, "--to", rcpt, "--helo", "client.test.invalid"])
    m = re.search(r"queued as (\w+)", p.stdout)
    inst.settle()
    return m.group(1) if m else wait_new(inst, before)


def main():
    skip_unless_possible()
    if not shutil.which("swaks"):
        print("SKIP: swaks not installed")
        sys.exit(77)
    with Instance("selectors", smtpd_port=PORT) as inst:
        # Reasons: mail for slow.example is deferred with a reason of our own.
        conf = inst.conf
        with open(os.path.join(conf, "transport"), "w") as f:
            f.write("slow.example retry:4.4.1 greylisted for qpurge test\n")
        run(["postconf", "-c", conf, "-e", f"transport_maps=texthash:{conf}/transport"])
        run(["postfix", "-c", conf, "reload"])
        time.sleep(1)

        bob = [swaks(inst, "bob@mx.test.invalid", f"spam{i}@victim.example", f"target{i}@far.example") for i in range(6)]
        carol = [swaks(inst, "carol@mx.test.invalid", "carol@victim.example", "friend@far.example") for _ in range(3)]
        local = [send(inst, "alice@local.example", ["x@far.example"]) for _ in range(3)]
        slow = [send(inst, "alice@local.example", [f"u{i}@slow.example"]) for i in range(4)]
        mixed_slow = send(inst, "alice@local.example", ["v@slow.example", "w@far.example"])
        time.sleep(2)
        inst.settle()

        # SASL user: exactly bob's messages, independent of the sender address.
        before = inst.ids()
        p = inst.qpurge("--sasl-user", "bob@mx.test.invalid", "--yes")
        check(before - inst.ids() == set(bob), f"--sasl-user removes exactly bob's {len(bob)} messages ({p.stdout.strip()[-200:]})")
        # Client address: only smtpd mail has one; a CIDR block covers it.
        p = inst.qpurge("--client-address", "127.0.0.0/8", "--dry-run", "--format", "ids")
        check(set(p.stdout.split()) == set(carol), "--client-address 127.0.0.0/8 selects only mail that came through smtpd")
        p = inst.qpurge("--client-address", "::1", "--dry-run", "--format", "ids")
        check(p.stdout.split() == [] and p.returncode == 1, "--client-address ::1 selects nothing (exit 1)")
        p = inst.qpurge("--helo", "client.test.invalid", "--exclude-sasl-user", "carol@mx.test.invalid", "--dry-run", "--format", "ids")
        check(p.stdout.split() == [], "--helo with --exclude-sasl-user leaves nothing")

        # Reason: postqueue -j says which recipients are stuck why.
        lines = inst.postqueue_lines()
        want = set(jq('select((.recipients|length) > 0 and (.recipients | all(.delay_reason // "" | test("greylisted")))) | .queue_id', lines))
        check(want == set(slow), f"postqueue -j shows {len(want)} messages deferred as greylisted")
        p = inst.qpurge("--reason", "greylisted", "--dry-run", "--format", "ids")
        check(set(p.stdout.split()) == want, "--reason selects the messages all of whose recipients are stuck for it")
        check("skipped as mixed 1" in p.stderr, "--reason: the message with another stuck recipient is mixed")
        before = inst.ids()
        p = inst.qpurge("--reason", "greylisted", "--yes")
        check(before - inst.ids() == want, "--reason purge removes exactly those")

        # Actions, each judged by postqueue -j.
        ids = set(local)
        inst.qpurge("--sender", "alice@local.example", "--recipient", "x@far.example", "--action", "hold", "--yes")
        q = {m["queue_id"]: m for m in inst.postqueue()}
        check(all(q[i]["queue_name"] == "hold" for i in ids), "--action hold puts them on hold")
        inst.qpurge("--sender", "alice@local.example", "--recipient", "x@far.example", "--action", "expire", "--yes")
        q = {m["queue_id"]: m for m in inst.postqueue()}
        check(all(q[i]["forced_expire"] for i in ids), "--action expire marks them force-expired")
        inst.qpurge("--sender", "alice@local.example", "--recipient", "x@far.example", "--action", "release", "--yes")
        q = {m["queue_id"]: m for m in inst.postqueue()}
        check(all(i in q and q[i]["queue_name"] != "hold" for i in ids), "--action release takes them off hold")
        # (force-expired mail leaves the queue as bounces; make fresh ones for requeue)
        fresh = [send(inst, "req@local.example", ["y@far.example"]) for _ in range(2)]
        before = inst.ids()
        p = inst.qpurge("--sender", "req@local.example", "--action", "requeue", "--yes")
        time.sleep(2)
        inst.settle()
        after = inst.postqueue()
        requeued = [m for m in after if m["sender"] == "req@local.example"]
        check(not (set(fresh) & inst.ids()) and len(requeued) == 2,
              f"--action requeue: old IDs gone, {len(requeued)} messages back under new IDs")

        # --max: refuse, exit 2, nothing changed.
        batch = [send(inst, "max@local.example", [f"m{i}@far.example"]) for i in range(5)]
        before = inst.ids()
        p = inst.qpurge("--sender", "max@local.example", "--max", "3", "--yes")
        check(p.returncode == 2 and inst.ids() == before, f"--max 3 refuses a plan of 5 (exit {p.returncode}), nothing changed")

        # --apply-plan after some messages were deleted or requeued.
        plan = os.path.join(inst.root, "plan.json")
        p = inst.qpurge("--sender", "max@local.example", "--save-plan", plan)
        check(p.returncode == 0 and os.path.exists(plan), "--save-plan writes the plan and changes nothing")
        inst.postsuper("-d", batch[0])
        inst.postsuper("-r", batch[1])
        time.sleep(1)
        inst.settle()
        before = inst.ids()
        p = inst.qpurge("--apply-plan", plan, "--yes", "--format", "json")
        results = {json.loads(l)["queue_id"]: json.loads(l) for l in p.stdout.splitlines()}
        check(all(results[i]["result"] == "done" for i in batch[2:]), "--apply-plan removes the planned messages still there")
        check(results[batch[0]]["result"] == "not_found" and results[batch[1]]["result"] == "not_found",
              "--apply-plan reports the deleted and the requeued ones as vanished")
        check(before - inst.ids() == set(batch[2:]), "--apply-plan removed exactly those")
        check(p.returncode == 3, f"--apply-plan with vanished messages exits 3 (got {p.returncode})")
        with open(plan) as f:
            lines = f.read().splitlines()  # JSON Lines: the header, then one message a line
        doc = json.loads(lines[0])
        doc["host"] = "another-host"
        other = os.path.join(inst.root, "other.json")
        with open(other, "w") as f:
            f.write("\n".join([json.dumps(doc)] + lines[1:]) + "\n")
        p = inst.qpurge("--apply-plan", other, "--yes")
        check(p.returncode == 2 and "host" in p.stderr, "a plan from another host is refused")

        # --via-hold with one message changed between the phases.
        vh = [send(inst, "vh@local.example", [f"z{i}@far.example"]) for i in range(4)]
        decoy = send(inst, "decoy@local.example", ["keep@far.example"])
        proc = subprocess.Popen([os.environ.get("QPURGE", ""), "-c", conf, "--audit-log",
                                 os.path.join(inst.root, "audit.jsonl"), "--sender", "vh@local.example",
                                 "--via-hold", "--hold-pause", "4", "--yes", "--format", "json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        changed = vh[0]
        held_path = os.path.join(inst.spool, "hold", changed)
        for _ in range(100):
            if os.path.exists(held_path):
                break
            time.sleep(0.05)
        # Replace the held file by another message (same name, new inode), as
        # if the short ID had been reused.
        decoy_path = run(["find", inst.spool + "/deferred", "-name", decoy]).stdout.strip()
        tmp = held_path + "-new"
        shutil.copy2(decoy_path, tmp)
        st = os.stat(held_path)
        os.chown(tmp, st.st_uid, st.st_gid)  # owned by postfix, like every queue file
        os.rename(tmp, held_path)
        out, err = proc.communicate(timeout=60)
        results = {json.loads(l)["queue_id"]: json.loads(l) for l in out.splitlines()}
        q = {m["queue_id"]: m for m in inst.postqueue()}
        check(all(i not in q for i in vh[1:]), "--via-hold deletes the verified messages")
        check(results.get(changed, {}).get("result") == "changed" and changed in q and q[changed]["queue_name"] == "deferred",
              f"--via-hold releases the changed message back, not deleted ({results.get(changed)})")
        check(proc.returncode == 3, f"--via-hold with a changed message exits 3 (got {proc.returncode})")

        # The audit log: an intent and a result record for every run that acted.
        with open(os.path.join(inst.root, "audit.jsonl")) as f:
            records = [json.loads(l) for l in f]
        results = [r for r in records if r["event"] == "result"]
        check(len(results) >= 8 and all(r["event"] in ("intent", "result") for r in records),
              f"audit log has {len(results)} result records")
        check(all("user" in r and "argv" in r and "criteria" in r for r in results), "audit records name user, command and criteria")
        # Unwritable audit log: nothing changes.
        before = inst.ids()
        p = run([os.environ.get("QPURGE", ""), "-c", conf, "--audit-log", "/proc/version/audit.jsonl",
                 "--sender", "decoy@local.example", "--yes"], check_rc=False)
        check(p.returncode == 2 and inst.ids() == before, f"unwritable audit log: exit 2, nothing changed ({p.stderr.strip()})")
    finish()


if __name__ == "__main__":
    main()
