#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A purge is a transaction (README, "What happens if qpurge is killed"), on a
real private Postfix instance with mail arriving all along. Each acting run is
killed with SIGKILL at several points (--rate and --hold-pause make the
windows wide), then the same command is run again:

  1  --archive: every selected message is gone and has exactly one restorable
     copy (one "outcome done" over all the run directories), every other
     message is unchanged (same ID, queue and recipients), nothing is on hold
     that was not; the audit log names each run that recovered another
  2  --via-hold --archive, killed in the hold phase, in the pause and while
     deleting: the same, and nothing qpurge held is left on hold
  3  a dry run after a kill reports the unfinished run and changes nothing;
     --recover finishes it
  5  --mixed cancel, killed at three points, then run again: every wholly
     matching message is gone, each mixed message keeps exactly its other
     recipients under its own ID, every other message is unchanged, nothing
     is left on hold, no journal is left (run before step 4)
  4  --restore of every run directory, killed while it writes and while
     postsuper -s runs, then run again: every deleted message is back in
     hold exactly once (its bytes are the archived copy's), nothing
     incomplete is left in the queue

Expectations come from postqueue -j, the queue files and the manifests,
never from qpurge's output. Exit status: 0 pass, 1 fail, 77 skip.
"""
import glob
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, Instance, check, finish, run, skip_unless_possible  # noqa: E402

DOMAIN = "example.com"


class Arrivals(threading.Thread):
    """Mail that keeps arriving while qpurge runs: a message every 0.2 s to
    recipients no selector here matches."""

    def __init__(self, inst):
        super().__init__(daemon=True)
        self.inst, self.stop, self.sent = inst, threading.Event(), 0

    def run(self):
        while not self.stop.is_set() and self.sent < 400:
            subprocess.run(["sendmail", "-C", self.inst.conf, "-i", "-f", f"new{self.sent}@arrive.test",
                            f"r{self.sent}@arrive.example"], input=b"Subject: arriving\n\nhello\n",
                           capture_output=True)
            self.sent += 1
            self.stop.wait(0.2)


def selected(msgs):
    """The messages --recipient-domain example.com selects: every pending
    recipient's domain is example.com, in any case (mixed ones are skipped)."""
    out = set()
    for m in msgs:
        doms = [r["address"].rsplit("@", 1)[-1].lower() for r in m["recipients"] if "@" in r["address"]]
        if doms and len(doms) == len(m["recipients"]) and all(d == DOMAIN for d in doms):
            out.add(m["queue_id"])
    return out


def state(m):
    return (m["queue_name"], tuple(sorted(r["address"] for r in m["recipients"])))


def qpurge_cmd(inst, *args):
    return [QPURGE, "-c", inst.conf, "--audit-log", os.path.join(inst.root, "audit.jsonl"), *args]


STDERR = []  # what every run said on standard error


def killed_at(inst, seconds, *args):
    """Starts qpurge, SIGKILLs it after `seconds`; True when it was still running."""
    p = subprocess.Popen(qpurge_cmd(inst, *args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(seconds)
    alive = p.poll() is None
    if alive:
        os.kill(p.pid, signal.SIGKILL)
    STDERR.append(p.communicate()[1])
    return alive


def killed_after_hold(inst, *args, timeout=60):
    """Starts qpurge and SIGKILLs it once its journal announces a hold step (so
    the kill lands while it acts, however slow the machine); True when it did."""
    journals = os.path.join(os.environ["QPURGE_STATE_DIR"], "journal", "*.journal")
    p = subprocess.Popen(qpurge_cmd(inst, *args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    held = False
    while not held and p.poll() is None and time.time() < deadline:
        for path in glob.glob(journals):
            with open(path) as f:
                held = held or any('"record":"hold"' in l.replace(" ", "") for l in f)
        time.sleep(0.02)
    alive = p.poll() is None
    if alive:
        os.kill(p.pid, signal.SIGKILL)
    STDERR.append(p.communicate()[1])
    return alive and held


def manifests(archive):
    recs = {}
    for path in glob.glob(os.path.join(archive, "*", "manifest.jsonl")):
        with open(path) as f:
            recs[os.path.dirname(path)] = [json.loads(l) for l in f if l.strip()]
    return recs


def done_copies(archive):
    """queue ID -> the run directories whose manifest says postsuper removed it
    (the last outcome of each ID in each run)."""
    out = {}
    for rundir, recs in manifests(archive).items():
        last = {}
        for r in recs:
            if r.get("record") == "outcome":
                last[r["queue_id"]] = r["result"]
        for qid, result in last.items():
            if result == "done":
                out.setdefault(qid, []).append(rundir)
    return out


def audit_recoveries(inst):
    path = os.path.join(inst.root, "audit.jsonl")
    with open(path) as f:
        return [json.loads(l) for l in f if '"event": "recover"' in l or '"event":"recover"' in l]


def left_through_qmgr(inst, qid):
    """True when the maillog says qmgr removed `qid` and postsuper did not."""
    with open(os.path.join(inst.root, "maillog"), errors="replace") as f:
        lines = [l for l in f if f" {qid}: removed" in l]
    return any("/qmgr[" in l for l in lines) and not any("/postsuper[" in l for l in lines)


def check_unchanged(inst, label, before, after):
    """Every message of `before` is unchanged in `after` (same ID, queue and
    recipients; moving between active, deferred and incoming is Postfix's)."""
    # A maildrop file is postdrop's, not a queue file: pickup turns it into a
    # queue file under a new ID, so its old ID is gone whatever qpurge does.
    changed = [q for q, m in before.items()
               if m["queue_name"] != "maildrop" and (q not in after or state(after[q]) != state(m))
               and not (m["queue_name"] in ("active", "deferred", "incoming")
                        and q in after and after[q]["queue_name"] in ("active", "deferred", "incoming")
                        and state(after[q])[1] == state(m)[1])]
    # Postfix goes on delivering and bouncing while qpurge runs: a message
    # that left through qmgr (delivered, bounced, expired) is Postfix's doing;
    # one that postsuper removed was handed over by qpurge.
    by_postfix = [q for q in changed if q not in after and left_through_qmgr(inst, q)]
    if by_postfix:
        print(f"{label}: {by_postfix[:5]} left the queue through qmgr while qpurge ran, not counted")
    changed = [q for q in changed if q not in by_postfix]
    check(not changed, f"{label}: every other message is unchanged ({changed[:5]})")
    for q in changed[:5]:
        print(f"  {q} before: {state(before[q])}, after: {state(after[q]) if q in after else 'gone'}")


def check_purge(inst, label, before, chosen, archive, held_before):
    after = {m["queue_id"]: m for m in inst.postqueue()}
    left = chosen & set(after)
    check(not left, f"{label}: every selected message is gone ({len(chosen)} selected, left: {sorted(left)[:5]})")
    copies = done_copies(archive)
    not_once = {q: len(copies.get(q, [])) for q in chosen if len(copies.get(q, [])) != 1}
    check(not not_once, f"{label}: each has exactly one restorable archive copy ({dict(list(not_once.items())[:5])})")
    check_unchanged(inst, label, {q: m for q, m in before.items() if q not in chosen}, after)
    held = {q for q, m in after.items() if m["queue_name"] == "hold"}
    check(held <= held_before, f"{label}: nothing is on hold that was not ({sorted(held - held_before)[:5]})")
    journals = glob.glob(os.path.join(os.environ["QPURGE_STATE_DIR"], "journal", "*.journal"))
    check(not journals, f"{label}: no journal is left ({journals})")


def domain_of(address):
    return address.rsplit("@", 1)[-1].lower() if "@" in address else ""


def cancel_with_kills(inst, kills):
    """--mixed cancel killed at several points, then run again: whole matches
    are gone, each mixed message keeps exactly its other recipients (same
    ID), every other message is unchanged, nothing is left on hold."""
    before = {m["queue_id"]: m for m in inst.postqueue()}
    whole = selected(before.values())
    mixed = {q for q, m in before.items() if q not in whole and m["queue_name"] != "maildrop" and
             any(domain_of(r["address"]) == DOMAIN for r in m["recipients"])}
    held_before = {q for q, m in before.items() if m["queue_name"] == "hold"}
    cmd = ["--recipient-domain", DOMAIN, "--mixed", "cancel", "--yes", "--rate", "6"]
    del STDERR[:]
    hits = sum(killed_at(inst, t, *cmd) for t in kills)
    print(f"--mixed cancel: {len(whole)} whole, {len(mixed)} mixed, killed {hits} of {len(kills)} times while running")
    check(hits >= 2, f"--mixed cancel: the kills landed while qpurge was acting ({hits})")
    # The instance keeps delivering: a mixed message qmgr has in the active
    # queue, or moves there between the plan and the hold (released there by
    # the recovery, say), is left alone and reported, exit 3, as an operator
    # would see; the next run takes it. So the command is run again while it
    # exits 3, saying each time why.
    for attempt in range(12):
        p = subprocess.run(qpurge_cmd(inst, *cmd), capture_output=True, text=True)
        STDERR.append(p.stderr)
        if p.returncode != 3:
            break
        why = [l for l in p.stdout.splitlines() if "changed" in l or "not found" in l or "vanished" in l]
        print(f"--mixed cancel: try {attempt + 1} exited 3, again; it said: {why[:4]}")
        time.sleep(3)
    check(p.returncode in (0, 1), f"--mixed cancel: the same command, run again, finishes (exit {p.returncode}: "
          f"{p.stderr.strip()[-400:]})")
    check(sum("did not finish" in e for e in STDERR) >= 1, "--mixed cancel: the run after a kill says so")
    after = {m["queue_id"]: m for m in inst.postqueue()}
    left = whole & set(after)
    check(not left, f"--mixed cancel: every wholly matching message is gone (left: {sorted(left)[:5]})")
    wrong = [q for q in mixed if q not in after or
             sorted(r["address"] for r in after[q]["recipients"]) !=
             sorted(r["address"] for r in before[q]["recipients"] if domain_of(r["address"]) != DOMAIN)]
    for q in wrong[:5]:
        print(f"  {q} before: {state(before[q])}, after: {state(after[q]) if q in after else 'gone'}")
    check(not wrong, f"--mixed cancel: each mixed message keeps exactly its other recipients ({wrong[:5]})")
    others = {q: m for q, m in before.items() if q not in whole and q not in mixed}
    check_unchanged(inst, "--mixed cancel", others, after)
    held = {q for q, m in after.items() if m["queue_name"] == "hold"}
    check(held <= held_before, f"--mixed cancel: nothing is on hold that was not ({sorted(held - held_before)[:5]})")
    journals = glob.glob(os.path.join(os.environ["QPURGE_STATE_DIR"], "journal", "*.journal"))
    check(not journals, f"--mixed cancel: no journal is left ({journals})")


def purge_with_kills(inst, label, archive, kills, *args):
    before = {m["queue_id"]: m for m in inst.postqueue()}
    chosen = selected(before.values())
    held_before = {q for q, m in before.items() if m["queue_name"] == "hold"}
    cmd = ["--recipient-domain", DOMAIN, "--archive", archive, "--yes", *args]
    del STDERR[:]
    hits = sum(killed_at(inst, t, *cmd) for t in kills)
    print(f"{label}: {len(chosen)} selected, killed {hits} of {len(kills)} times while running")
    check(hits >= 2, f"{label}: the kills landed while qpurge was acting ({hits})")
    p = subprocess.run(qpurge_cmd(inst, *cmd), capture_output=True, text=True)
    STDERR.append(p.stderr)
    check(p.returncode in (0, 1), f"{label}: the same command, run again, finishes (exit {p.returncode}: "
          f"{p.stderr.strip()[-400:]})")
    said = sum("did not finish" in e for e in STDERR)
    check(said >= 1, f"{label}: the run after a kill says that a run did not finish ({said} times)")
    check_purge(inst, label, before, chosen, archive, held_before)
    return chosen


def restore_all(inst, archive, kills, postsuper):
    """Restores every run directory, killing the first tries."""
    rundirs = sorted(manifests(archive))
    for t in kills:
        for rd in rundirs:
            killed_at(inst, t, "--restore", rd, "--yes", "--postsuper", postsuper)
    for rd in rundirs:
        p = subprocess.run(qpurge_cmd(inst, "--restore", rd, "--yes"), capture_output=True, text=True)
        check(p.returncode in (0, 1), f"restore {os.path.basename(rd)} run again finishes (exit {p.returncode}: "
              f"{p.stderr.strip()[-300:]})")


def sha_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def queue_files(inst):
    """Every file of the message queues (two messages can have the same bytes)."""
    out = []
    for q in ("incoming", "active", "deferred", "hold"):
        out += [p for p in glob.glob(os.path.join(inst.spool, q, "**"), recursive=True) if os.path.isfile(p)]
    return out


def check_restored(inst, archive, chosen, before, since):
    """Restore put into the queue the archived copies of the deleted messages,
    each exactly once: the files that are new since `before` are those
    copies, byte for byte, as a multiset."""
    want = []
    done = done_copies(archive)
    for rundir, recs in manifests(archive).items():
        for r in recs:
            if r.get("record") == "message" and rundir in done.get(r["queue_id"], []):
                want.append(r["sha256"])
    new = [p for p in queue_files(inst) if os.path.basename(p) not in before]  # names survive qmgr's moves
    # Mail Postfix itself made after `since` (a bounce of the fill's unknown
    # local users, a straggler of the arrivals) is not a restore: a restored
    # file keeps its original arrival time.
    seen = {m["queue_id"]: m for m in inst.postqueue()}
    fresh = [p for p in new if seen.get(os.path.basename(p), {}).get("arrival_time", 0) >= since
             and sha_of(p) not in want]
    for p in fresh:
        m = seen[os.path.basename(p)]
        print(f"arrived after the restores began, not counted: {os.path.basename(p)} from <{m['sender']}>")
    have = sorted(sha_of(p) for p in new if p not in fresh)
    check(set(done) >= chosen, f"every deleted message has a copy to restore ({len(chosen - set(done))} without)")
    check(have == sorted(want), f"every deleted message is back exactly once ({len(have)} files back, "
          f"{len(want)} deleted; extra {len(set(have) - set(want))}, missing {len(set(want) - set(have))})")
    incomplete = [p for p in queue_files(inst) if os.stat(p).st_mode & 0o100 == 0]
    check(not incomplete, f"nothing incomplete is left in the queue ({incomplete[:3]})")


def main():
    skip_unless_possible()
    with Instance("journal", live=True) as inst:
        os.environ["QPURGE_STATE_DIR"] = os.path.join(inst.root, "state")
        os.environ["QPURGE_LOCK_DIR"] = os.path.join(inst.root, "lock")
        archive = os.path.join(inst.root, "archive")
        inst.fill(300)
        arrivals = Arrivals(inst)
        arrivals.start()
        chosen = purge_with_kills(inst, "--archive", archive, [0.5, 1.5, 2.5], "--rate", "6")
        recov = audit_recoveries(inst)
        check(len(recov) >= 1 and all(r.get("recovered_run") for r in recov),
              f"the audit log names each run that recovered another ({len(recov)} recoveries)")

        inst.fill(300, seed=2)
        chosen |= purge_with_kills(inst, "--via-hold --archive", archive, [0.8, 2.5, 4.0], "--via-hold",
                                   "--hold-pause", "1", "--rate", "8")

        # A dry run reports the unfinished run and changes nothing; --recover finishes it.
        inst.fill(60, seed=3)
        hit = killed_after_hold(inst, "--recipient-domain", DOMAIN, "--archive", archive, "--via-hold", "--yes",
                                "--hold-pause", "5", "--rate", "10")
        check(hit, "the via-hold run was killed after its hold step")
        before = sorted((m["queue_id"], state(m)) for m in inst.postqueue() if m["queue_name"] == "hold")
        p = inst.qpurge("--recipient-domain", DOMAIN, "--dry-run")
        after = sorted((m["queue_id"], state(m)) for m in inst.postqueue() if m["queue_name"] == "hold")
        check("did not finish" in p.stderr and before == after,
              f"a dry run reports the unfinished run and changes nothing ({p.stderr.strip()[-300:]})")
        p = inst.qpurge("--recover")
        check(p.returncode in (0, 1) and not glob.glob(os.path.join(os.environ["QPURGE_STATE_DIR"], "journal", "*")),
              f"--recover finishes it (exit {p.returncode}: {p.stderr.strip()[-300:]})")
        chosen |= {q for q in done_copies(archive)}

        inst.fill(200, seed=4)
        cancel_with_kills(inst, [0.8, 2.0, 3.5])

        arrivals.stop.set()
        arrivals.join()
        # postsuper -s slowed down, so a kill lands while it runs: the real
        # postsuper, two seconds late.
        slow = os.path.join(inst.root, "slow-postsuper")
        with open(slow, "w") as f:
            f.write("#!/bin/sh\nsleep 2\nexec /usr/sbin/postsuper \"$@\"\n")
        os.chmod(slow, 0o755)
        before = {os.path.basename(p) for p in queue_files(inst)}
        since = int(time.time())
        restore_all(inst, archive, [0.05, 0.3, 1.0], slow)
        check_restored(inst, archive, chosen, before, since)
    finish()


if __name__ == "__main__":
    main()
