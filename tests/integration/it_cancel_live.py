#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--mixed cancel while mail arrives and is delivered (issue 22).

A real private instance, two real smtp-sinks that record what they receive:
the relay for every domain but dead.example (slowed: it waits a second
before answering DATA, four connections at most) and, for dead.example
(transport_maps), a second one that is down until the end. So the dead
domain's mail is deferred all along, and any delivery to it shows at the
end.
  1. PRE messages queued while the relay is down, all deferred with defer
     logfiles: mixed (one or two recipients in dead.example, in both cases,
     and one or two elsewhere, lookalikes dead.example.org and
     notdead.example among them), wholly dead, and not matching.
  2. Short retry times; the relay comes up; a thread submits new mail every
     0.25 s (mixed, wholly dead, not matching); another makes the queued
     messages fall due one by one (`postqueue -i ID` every 0.15 s, as their
     retry times would), a few before qpurge plans (it finds them in the
     active queue, which it leaves to the queue manager), the rest while
     `qpurge --recipient-domain dead.example --mixed cancel --yes --rate 8`
     holds and crosses off; then the rest of the queue is flushed.
  3. The arrivals stop and the queue drains of every recipient outside
     dead.example. Then, judged by Message-ID and recipient from what the
     sinks recorded, and by postqueue -j:
     - every recipient outside dead.example received each of its messages
       exactly once; nothing else was received;
     - each message qpurge reports done is gone (canceled: its other
       recipients were delivered and its dead ones crossed off; deleted);
       each one it reports left alone (changed, not found) and each one it
       did not plan (new arrivals after planning) still has exactly its
       dead.example recipients pending;
     - qpurge's exit status and summary agree with its per-message results,
       nothing is left on hold, and it reported no failure;
     - deliveries ran while qpurge ran, some new mixed messages arrived after
       planning, recipients were canceled, and Postfix moved some planned
       messages first (so qpurge left them alone).
  4. The deferral retries slow down, the queue settles, and the same purge
     (new arrivals excluded by sender domain) takes what the first run left
     alone (run again while Postfix still moves one, exit 3).
  5. The dead domain's sink comes up and the queue is flushed until empty:
     no dead.example recipient of a message queued before the runs received
     it; each dead.example recipient of a new arrival qpurge did not take
     received it exactly once.
  6. The maillog has no warning naming any of these messages.
Every wait is on a condition, with a timeout. Exit status: 0 pass, 1 fail,
77 skip.
"""
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, Instance, SmtpSink, check, finish, run, skip_unless_possible, wait_for  # noqa: E402

DEAD = "dead.example"
ELSEWHERE = ("keep.example", "other.example", "notdead.example", "dead.example.org")
PRE = 80            # messages queued before the run
ARRIVALS = 200      # at most, one every 0.25 s while qpurge runs
SELECT = ["--recipient-domain", DEAD, "--mixed", "cancel", "--yes", "--format", "json"]


class Mail:
    """One message: its tag (also its Message-ID's local part), sender and
    recipients, drawn the same way every time."""

    def __init__(self, tag, sender, rcpts):
        self.tag, self.sender, self.rcpts = tag, sender, rcpts
        self.msgid = f"{tag}@live.test"

    def dead(self):
        return {r.lower() for r in self.rcpts if r.lower().endswith("@" + DEAD)}

    def kept(self):
        return {r.lower() for r in self.rcpts} - self.dead()


def draw(rng, tag, sender_domain, kind):
    """kind: mixed, dead (every recipient in dead.example) or keep (none)."""
    dead = [f"{tag}d{j}@{DEAD.upper() if j % 2 else DEAD}" for j in range(rng.randint(1, 2))]
    kept = [f"{tag}k{j}@{rng.choice(ELSEWHERE)}" for j in range(rng.randint(1, 2))]
    rcpts = {"mixed": dead + kept, "dead": dead, "keep": kept}[kind]
    rng.shuffle(rcpts)
    return Mail(tag, f"{tag}@{sender_domain}", rcpts)


def submit(inst, mail):
    text = f"Message-ID: <{mail.msgid}>\nSubject: {mail.tag}\nFrom: <{mail.sender}>\n\nbody of {mail.tag}\n"
    run(["sendmail", "-C", inst.conf, "-i", "-f", mail.sender, *mail.rcpts], input=text)


class Arrivals(threading.Thread):
    """New mail while qpurge runs: every 0.25 s, in turn mixed, not matching,
    mixed, wholly dead, from senders in arrive.test."""

    def __init__(self, inst):
        super().__init__(daemon=True)
        self.inst, self.stop, self.sent = inst, threading.Event(), []
        self.rng = random.Random(22)

    def run(self):
        kinds = ("mixed", "keep", "mixed", "dead")
        while not self.stop.is_set() and len(self.sent) < ARRIVALS:
            i = len(self.sent)
            mail = draw(self.rng, f"n{i}", "arrive.test", kinds[i % 4])
            submit(self.inst, mail)
            self.sent.append(mail)
            self.stop.wait(0.25)


def pending(inst):
    """sender -> (queue, set of pending recipients in lower case), from postqueue -j."""
    return {m["sender"]: (m["queue_name"], {r["address"].lower() for r in m["recipients"]}) for m in inst.postqueue()}


def queue_ids(inst, mails):
    """queue ID -> Mail, from cleanup's message-id lines in the maillog."""
    by_msgid = {m.msgid: m for m in mails}
    with open(os.path.join(inst.root, "maillog"), errors="replace") as f:
        found = re.findall(r"/cleanup\[\d+\]: ([0-9A-Za-z]+): message-id=<([^>]*)>", f.read())
    return {qid: by_msgid[msgid] for qid, msgid in found if msgid in by_msgid}


def set_retries(inst, seconds):
    run(["postconf", "-c", inst.conf, "-e", f"queue_run_delay={seconds}", f"minimal_backoff_time={seconds}",
         f"maximal_backoff_time={seconds}"])
    run(["postfix", "-c", inst.conf, "reload"])


def results_of(p):
    out = {}
    for line in p.stdout.splitlines():
        if line.strip():
            r = json.loads(line)
            out[r["queue_id"]] = r
    return out


def qpurge_cmd(inst, *args):
    return [QPURGE, "-c", inst.conf, "--audit-log", os.path.join(inst.root, "audit.jsonl"), *args]


def queue_before(inst, relay, dead):
    rng = random.Random(1)
    kinds = ("mixed",) * 6 + ("dead", "keep")
    mails = [draw(rng, f"p{i}", "sender.test", kinds[i % 8]) for i in range(PRE)]
    run(["postconf", "-c", inst.conf, "-e", f"relayhost=[127.0.0.1]:{relay.port}",
         f"transport_maps=inline:{{ {DEAD}=smtp:[127.0.0.1]:{dead.port} }}",
         "smtp_destination_concurrency_limit=4", "smtp_connect_timeout=1s"])
    run(["postfix", "-c", inst.conf, "reload"])
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda m: submit(inst, m), mails))
    senders = {m.sender for m in mails}

    def deferred():
        q = [m for m in inst.postqueue() if m["sender"] in senders]
        return len(q) == PRE and all(m["queue_name"] == "deferred" and all(r.get("delay_reason") for r in m["recipients"])
                                     for m in q)
    check(wait_for(deferred, "the first messages to be deferred", 120),
          f"1: {PRE} messages are deferred, each recipient with its defer log entry")
    return mails


class Trickle(threading.Thread):
    """The queued messages fall due one by one, as retry times do on a live
    server: `postqueue -i ID` for each in turn, every 0.15 s."""

    def __init__(self, inst, ids):
        super().__init__(daemon=True)
        self.inst, self.ids, self.stop, self.due = inst, ids, threading.Event(), 0

    def run(self):
        for qid in self.ids:
            if self.stop.is_set():
                break
            subprocess.run(["postqueue", "-c", self.inst.conf, "-i", qid], capture_output=True)
            self.due += 1
            self.stop.wait(0.15)


def first_run(inst, relay):
    """Step 2: returns (qpurge's process result, its results by queue ID, the
    arrivals, sink files when qpurge started and ended)."""
    ids = sorted(m["queue_id"] for m in inst.postqueue())
    random.Random(2).shuffle(ids)
    set_retries(inst, "1s")
    relay.start("-w", "1")
    arrivals, trickle = Arrivals(inst), Trickle(inst, ids)
    arrivals.start()
    check(wait_for(lambda: relay.files() >= 1, "the relay's first delivery", 60), "2: the relay receives mail")
    # A few fall due before qpurge plans: it finds them in the active queue.
    trickle.start()
    wait_for(lambda: trickle.due >= 6, "six messages to fall due", 30)
    at_start = relay.files()
    t = time.time()
    proc = subprocess.Popen(qpurge_cmd(inst, *SELECT, "--rate", "8"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    out, err = proc.communicate(timeout=600)
    at_end = relay.files()
    p = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    print(f"-- qpurge ran {time.time() - t:.1f}s, exit {p.returncode}; stderr:\n{p.stderr}")
    for thread in (trickle, arrivals):
        thread.stop.set()
        thread.join()
    run(["postqueue", "-c", inst.conf, "-f"])  # what had not fallen due yet
    return p, results_of(p), arrivals.sent, at_start, at_end


def only_dead_left(inst):
    """Every recipient still pending is in dead.example, and nothing is on
    hold."""
    q = inst.postqueue()
    return not any(m["queue_name"] == "hold" or not r["address"].lower().endswith("@" + DEAD)
                   for m in q for r in m["recipients"])


def show_queue(inst):
    for m in inst.postqueue():
        rcpts = [(r["address"], r.get("delay_reason", "")[:80]) for r in m["recipients"]
                 if not r["address"].lower().endswith("@" + DEAD)]
        if m["queue_name"] == "hold" or rcpts:
            print(f"  left: {m['queue_id']} {m['queue_name']} {m['sender']} {rcpts}")


def judge_deliveries(label, got, want):
    counts = {}
    for g in got:
        counts[g] = counts.get(g, 0) + 1
    missing = sorted(w for w in want if w not in counts)
    twice = sorted(g for g, n in counts.items() if n > 1)
    other = sorted(g for g in counts if g not in want)
    check(not missing, f"{label}: each received each of its messages ({len(want)} expected; missing: {missing[:5]})")
    check(not twice, f"{label}: none received a message twice ({twice[:5]})")
    check(not other, f"{label}: nothing else was received ({other[:5]})")


def judge_first_run(inst, relay, mails, run1):
    p, results, arrivals, at_start, at_end = run1
    everyone = mails + arrivals
    if not check(wait_for(lambda: only_dead_left(inst), "the drain of every recipient outside dead.example", 120),
                 "3: the queue drains of every recipient outside dead.example"):
        show_queue(inst)
    ids = queue_ids(inst, everyone)
    check(all(q in ids for q in results), f"3: every ID qpurge reports is one of these messages "
          f"({sorted(q for q in results if q not in ids)[:5]})")
    done = {ids[q].tag for q, r in results.items() if r["result"] == "done" and q in ids}
    planned = {ids[q].tag for q in results if q in ids}
    outcomes = {}
    for r in results.values():
        key = (r["result"], re.sub(r"[0-9A-Za-z._-]+@[^ ,;]+", "ADDR", r.get("detail") or ""))
        outcomes[key] = outcomes.get(key, 0) + 1
    for (result, detail), n in sorted(outcomes.items(), key=lambda kv: -kv[1]):
        print(f"-- {n:4d} {result}: {detail}")

    judge_deliveries("3: recipients outside dead.example", relay.received(),
                     {(m.msgid, r) for m in everyone for r in m.kept()})
    now = pending(inst)
    wrong = []
    for m in everyone:
        left = now.get(m.sender, (None, set()))[1]
        want = set() if m.tag in done else m.dead()
        if left != want:
            wrong.append((m.tag, "done" if m.tag in done else "planned" if m.tag in planned else "not planned",
                          sorted(left), sorted(want)))
    check(not wrong, f"3: each message qpurge reports done is gone; every other still has exactly its dead.example "
          f"recipients pending ({wrong[:5]})")

    all_done = all(r["result"] in ("done", "already") for r in results.values())
    check(p.returncode == (0 if all_done else 3),
          f"3: the exit status is {0 if all_done else 3}, as the results say ({p.returncode})")
    bad = [r for r in results.values() if r["result"] in ("failed", "not_attempted")]
    check(not bad, f"3: no message failed or was not attempted ({bad[:3]})")
    check(not [m for m in inst.postqueue() if m["queue_name"] == "hold"], "3: nothing is left on hold")
    s = re.search(r"canceled (\d+) recipients in (\d+) messages \(of (\d+) mixed; changed since planning (\d+); "
                  r"not done (\d+)\)", p.stderr)
    check(s is not None, "3: the summary says what was canceled")
    canceled = [ids[q] for q, r in results.items()
                if q in ids and r["result"] == "done" and (r.get("detail") or "").startswith("canceled")]
    if s:
        n_rcpts, n_msgs, n_mixed, n_changed, n_not_done = map(int, s.groups())
        check((n_rcpts, n_msgs, n_not_done) == (sum(len(m.dead()) for m in canceled), len(canceled), 0),
              f"3: ... {n_rcpts} recipients in {n_msgs} messages, none not done, as the per-message results say")
    new_after = [m for m in arrivals if m.tag not in planned and m.dead() and m.kept()]
    print(f"-- {len(planned)} planned, {len(done)} done ({len(canceled)} canceled in), {len(arrivals)} arrivals, "
          f"{len(new_after)} mixed ones not planned; the relay received {at_end - at_start} while qpurge ran")
    check(len(canceled) >= 5, f"3: recipients were canceled in messages ({len(canceled)})")
    check(at_end > at_start, f"3: deliveries ran while qpurge ran ({at_end - at_start} received meanwhile)")
    check(len(new_after) >= 3, f"3: new mixed messages arrived after planning ({len(new_after)})")
    check(len(planned - done) >= 1, f"3: Postfix moved some planned messages first ({len(planned - done)} left alone)")
    return done


def second_run(inst, mails):
    """Step 4: the retries slow down, and what the first run left goes. A
    queue manager restarted by the reload puts a file that a delivery agent
    still had locked in incoming for a minute (qmgr_active_feed()): at rest
    too. Postfix may still move a message while qpurge runs: it is left
    alone (exit 3), and the same command is run again, as an operator would."""
    set_retries(inst, "1d")

    def settled():
        for _ in range(3):  # three listings in a row with nothing active
            if any(m["queue_name"] == "active" for m in inst.postqueue()):
                return False
            time.sleep(0.3)
        return True
    check(wait_for(settled, "the queue to settle", 60), "4: the queue settles")
    for attempt in range(5):
        p = subprocess.run(qpurge_cmd(inst, *SELECT, "--exclude-sender-domain", "arrive.test"),
                           capture_output=True, text=True, timeout=600)
        print(f"-- second run: exit {p.returncode}\n{p.stderr}")
        if p.returncode != 3:
            break
        time.sleep(1)
    check(p.returncode in (0, 1), f"4: the same purge, run again, takes what the first left (exit {p.returncode})")
    now = pending(inst)
    left = [m.tag for m in mails if m.dead() and m.sender in now]
    check(not left, f"4: no message queued before the runs has a dead.example recipient pending ({left[:5]})")


def final_delivery(inst, dead, mails, arrivals, done):
    """Step 5: the dead domain accepts mail."""
    dead.start()
    run(["postqueue", "-c", inst.conf, "-f"])
    check(wait_for(lambda: not inst.postqueue(), "the queue to empty", 120), "5: the queue empties")
    got = dead.received()
    pre = {m.msgid for m in mails}
    check(not [g for g in got if g[0] in pre],
          f"5: no dead.example recipient of a message queued before the runs received it "
          f"({[g for g in got if g[0] in pre][:5]})")
    judge_deliveries("5: dead.example recipients of new mail qpurge did not take", got,
                     {(m.msgid, r) for m in arrivals if m.tag not in done for r in m.dead()})


def judge_maillog(inst, mails):
    ids = queue_ids(inst, mails)
    with open(os.path.join(inst.root, "maillog"), errors="replace") as f:
        log = f.read().splitlines()
    warnings = [line for line in log if re.search(r": (warning|error|fatal|panic): ", line)]
    ours = [line for line in warnings if any(q in line for q in ids)]
    for line in warnings[:20]:
        print("maillog:", line)
    check(not ours, f"6: the maillog has no warning about these messages ({ours[:3]})")


def main():
    skip_unless_possible()
    with Instance("cancel-live") as inst:
        os.environ["QPURGE_STATE_DIR"] = os.path.join(inst.root, "state")
        relay, dead = SmtpSink(inst.root, "relay"), SmtpSink(inst.root, "dead")
        try:
            mails = queue_before(inst, relay, dead)
            run1 = first_run(inst, relay)
            arrivals = run1[2]
            done = judge_first_run(inst, relay, mails, run1)
            second_run(inst, mails)
            final_delivery(inst, dead, mails, arrivals, done)
            judge_maillog(inst, mails + arrivals)
        finally:
            relay.stop()
            dead.stop()
    finish()


if __name__ == "__main__":
    main()
