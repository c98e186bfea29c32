#!/usr/bin/env python3
"""Integration test: --mixed cancel on a real Postfix instance (issue 22).

Mail to a dead domain and to others, deferred by the instance (its relay
is a closed port, so each message gets a defer logfile):
  m1  a@dead.example, b@keep.example               one matching recipient
  m2  A@DEAD.EXAMPLE, c@dead.example, d@keep.example  two, upper and lower case
  m3  e@dead.example, f@dead.example               every recipient matches
  m4  g@keep.example                               none matches
  m5  h@notdead.example, i@dead.example.org, j@keep.example   lookalikes
  m6  k@dead.example, l@keep.example               mixed, on hold before the run
Then `qpurge --domain dead.example --mixed cancel --yes`, and:
  1. postqueue -j lists exactly the kept recipients (m1: b, m2: d, m3 gone,
     m4 and m5 unchanged, m6 on hold with l only);
  2. with a real smtp-sink as the relay, every message but m6 is delivered
     to its kept recipients only, body byte-identical to postcat -b of the
     original; no canceled recipient receives anything;
  3. the maillog has no warning, and m6 is still on hold.
  5. The run of step 1 was made with --archive: `--restore` of it puts back,
     on hold, copies addressed to the canceled recipients only (m1: a, m2: A
     and c, m3 whole: e and f, m6: k), under new IDs; released, smtp-sink
     receives them for those recipients only, body byte-identical to postcat
     -b of the original, and no kept recipient receives a second copy.
  6. SIGKILL with --archive at two exact points (strace delays each fsync by
     1.5 s, so the kill lands in the window it names, checked on the queue
     file): after the copy is recorded and before the cross-off; after the
     cross-off and before its outcome is recorded. --recover settles each
     from the queue file (not done / done), nothing is lost, and a restore
     of every run gives back exactly one copy to the canceled recipient.
  4. Killed: twelve more mixed messages, a cancel run slowed with --rate and
     killed with SIGKILL while it holds, then the same command again: every
     message is in deferred with its kept recipient only, none left on hold
     but m6, and the held m6 still has l only.
"""
import os
import glob
import json
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, Instance, check, finish, relay_through_sink, run, skip_unless_possible  # noqa: E402

MESSAGES = {
    "m1": ["a@dead.example", "b@keep.example"],
    "m2": ["A@DEAD.EXAMPLE", "c@dead.example", "d@keep.example"],
    "m3": ["e@dead.example", "f@dead.example"],
    "m4": ["g@keep.example"],
    "m5": ["h@notdead.example", "i@dead.example.org", "j@keep.example"],
    "m6": ["k@dead.example", "l@keep.example"],
}
KEPT = {
    "m1": ["b@keep.example"],
    "m2": ["d@keep.example"],
    "m4": ["g@keep.example"],
    "m5": ["h@notdead.example", "i@dead.example.org", "j@keep.example"],
    "m6": ["l@keep.example"],
}


def submit(inst):
    for tag, rcpts in MESSAGES.items():
        body = f"Subject: {tag}\n\nbody of {tag}\nline two . with a dot\n"
        run(["sendmail", "-C", inst.conf, "-f", f"{tag}@sender.test", *rcpts], input=body)
    end = time.time() + 60
    while time.time() < end:
        q = inst.postqueue()
        if len(q) == len(MESSAGES) and all(m["queue_name"] == "deferred" for m in q) and all(
                r.get("delay_reason") for m in q for r in m["recipients"]):
            break
        time.sleep(0.5)
    ids = {}
    for m in inst.postqueue():
        ids[m["sender"].split("@")[0]] = m["queue_id"]
    check(sorted(ids) == sorted(MESSAGES), f"the six messages are deferred with defer logs ({sorted(ids)})")
    return ids


def recipients(inst):
    return {m["queue_id"]: (m["queue_name"], sorted(r["address"] for r in m["recipients"])) for m in inst.postqueue()}


def through_sink(inst, release, remaining):
    """A real smtp-sink as the relay: releases `release` from hold, flushes,
    waits until only `remaining` is queued; what arrived, by Subject tag:
    {tag: [recipients]} and {tag: [bodies]}."""
    got, bodies = {}, {}
    with relay_through_sink(inst) as sink:
        if release:
            inst.postsuper("-H", "-", input="".join(q + "\n" for q in release))
        run(["postqueue", "-c", inst.conf, "-f"])
        end = time.time() + 60
        while time.time() < end and sorted(recipients(inst)) != sorted(remaining):
            time.sleep(0.5)
        for name in os.listdir(sink.dir):
            with open(os.path.join(sink.dir, name), "rb") as f:
                data = f.read().replace(b"\r\n", b"\n")
            # smtp-sink's envelope lines run into the message headers; the
            # body follows the first empty line. postcat -b prints the empty
            # line that ends the headers, then the body; smtp-sink writes one
            # empty line after each message.
            head, _, rest = data.partition(b"\n\n")
            tag = re.search(rb"^Subject: (\w+)$", head, re.M)
            rcpts = re.findall(rb"^X-Rcpt-Args: <([^>]*)>", head, re.M)
            if tag:
                t = tag.group(1).decode()
                got.setdefault(t, []).extend(r.decode() for r in rcpts)
                bodies.setdefault(t, []).append(b"\n" + rest)
    return got, bodies


def deliver(inst, ids, bodies):
    """Check 2: what each message brings to a real smtp-sink."""
    got, delivered = through_sink(inst, [], [ids["m6"]])
    left = recipients(inst)
    check(list(left) == [ids["m6"]], f"2: every message but the held one was delivered ({left})")
    for t, bs in delivered.items():
        for b in bs:
            check(b == bodies[t] + b"\n", f"2: {t}'s delivered body is byte-identical to postcat -b of the original")
    for t in ("m1", "m2", "m4", "m5"):
        check(sorted(got.get(t, [])) == sorted(KEPT[t]), f"2: {t} was delivered to its kept recipients only ({got.get(t)})")
    check("m3" not in got and "m6" not in got, f"2: m3 (deleted) and m6 (on hold) were not delivered ({sorted(got)})")
    canceled = {r.lower() for t in ("m1", "m2", "m3", "m6") for r in MESSAGES[t] if "@dead.example" in r.lower()}
    received = {r.lower() for rs in got.values() for r in rs}
    check(not canceled & received, f"2: no canceled recipient received anything ({sorted(canceled & received)})")


CANCELED = {
    "m1": ["a@dead.example"],
    "m2": ["A@DEAD.EXAMPLE", "c@dead.example"],
    "m3": ["e@dead.example", "f@dead.example"],
    "m6": ["k@dead.example"],
}


def restore_canceled(inst, ids, bodies, archive):
    """Check 5: --restore of the --mixed cancel --archive run."""
    runs = sorted(os.listdir(archive))
    check(len(runs) == 1, f"5: the cancel run made one archive run ({runs})")
    rundir = os.path.join(archive, runs[0])
    before = set(recipients(inst))
    p = inst.qpurge("--restore", rundir, "--yes", "--format", "json")
    print(p.stdout, p.stderr)
    check(p.returncode == 0, f"5: --restore exits 0 ({p.returncode})")
    report = [json.loads(line) for line in p.stdout.splitlines()]
    copies = sorted(r["queue_id"] for r in report if r.get("canceled_recipients"))
    check(copies == sorted(ids[t] for t in ("m1", "m2", "m6")), f"5: the report names 3 canceled-recipient copies ({copies})")
    now = {m["queue_id"]: m for m in inst.postqueue()}
    new = {q: m for q, m in now.items() if q not in before}
    by_tag = {m["sender"].split("@")[0]: (m["queue_name"], sorted(r["address"] for r in m["recipients"]))
              for m in new.values()}
    for t, rcpts in CANCELED.items():
        check(by_tag.get(t) == ("hold", sorted(rcpts)), f"5: {t} is back on hold for {rcpts} only ({by_tag.get(t)})")
    check(all(q not in ids.values() for q in new), "5: every copy has a new queue ID")
    check(now.get(ids["m6"]) and sorted(r["address"] for r in now[ids["m6"]]["recipients"]) == KEPT["m6"],
          "5: the original m6 is still on hold with l only")
    got, delivered = through_sink(inst, list(new), [ids["m6"]])
    for t, rcpts in CANCELED.items():
        check(sorted(r.lower() for r in got.get(t, [])) == sorted(r.lower() for r in rcpts),
              f"5: released, {t} reaches {rcpts} only ({got.get(t)})")
        for b in delivered.get(t, []):
            check(b == bodies[t] + b"\n", f"5: {t}'s restored body is byte-identical to postcat -b of the original")
    kept = {r.lower() for rs in KEPT.values() for r in rs}
    twice = sorted(r for rs in got.values() for r in rs if r.lower() in kept)
    check(not twice, f"5: no kept recipient received a second copy ({twice})")


def rcpt_type(path, address):
    """The type of the recipient record of `address` in the queue file at
    `path`: "R" pending, "D" done, "?" not found (a short address: one
    length byte before the payload, the type before it)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "?"
    pat = bytes([len(address)]) + address.encode()
    i = data.find(pat)
    while i > 0:
        if data[i - 1:i] in (b"R", b"D"):
            return data[i - 1:i].decode()
        i = data.find(pat, i + 1)
    return "?"


def manifest_state(archive, qid):
    """What the archive runs say of `qid`: "outcome RESULT", "message" or None."""
    state = None
    for path in glob.glob(os.path.join(archive, "*", "manifest.jsonl")):
        with open(path) as f:
            for line in f:
                if not line.endswith("\n"):
                    continue
                r = json.loads(line)
                if r.get("queue_id") != qid:
                    continue
                if r["record"] == "message" and state is None:
                    state = "message"
                elif r["record"] == "outcome":
                    state = "outcome " + r["result"]
    return state


def kill_tree(p):
    with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
        for child in f.read().split():
            os.kill(int(child), signal.SIGKILL)
    p.kill()
    p.wait()


def killed_archive(inst):
    """Check 6: SIGKILL between the copy and the cross-off, and between the
    cross-off and its outcome record (each fsync made 1.5 s slow by strace,
    the window then found on the queue file and the manifest)."""
    archive = os.path.join(inst.root, "archive-killed")
    points = ("zcopied", "zcrossed")
    for tag in points:
        run(["sendmail", "-C", inst.conf, "-f", f"{tag}@sender.test", f"{tag}@dead.example", f"{tag}@keep.example"],
            input=f"Subject: {tag}\n\nbody of {tag}\n")
    ids = {}
    end = time.time() + 60
    while time.time() < end and len(ids) < 2:
        ids = {m["sender"].split("@")[0]: m["queue_id"] for m in inst.postqueue()
               if m["sender"].startswith("z") and m["queue_name"] == "deferred"}
        time.sleep(0.5)
    check(len(ids) == 2, f"6: two more mixed messages are deferred ({ids})")
    for tag in points:
        qid = ids[tag]
        cmd = ["--domain", "dead.example", "--id", qid, "--mixed", "cancel", "--archive", archive, "--yes"]
        p = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync", "-e",
                              "inject=fsync:delay_exit=1500000", *inst_cmd(inst), *cmd],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        hold, dead = os.path.join(inst.spool, "hold", qid), f"{tag}@dead.example"
        want = "R" if tag == "zcopied" else "D"
        landed = False
        end = time.time() + 120
        while time.time() < end and p.poll() is None:
            if manifest_state(archive, qid) == "message" and rcpt_type(hold, dead) == want:
                kill_tree(p)
                landed = manifest_state(archive, qid) == "message" and rcpt_type(hold, dead) == want
                break
            time.sleep(0.01)
        if p.poll() is None:
            kill_tree(p)
        what = "after the copy, before the cross-off" if want == "R" else "after the cross-off, before its outcome"
        check(landed, f"6: {tag}: SIGKILL landed {what}")
        r = inst.qpurge("--recover")
        print(r.stdout, r.stderr)
        check(r.returncode == 0, f"6: {tag}: --recover exits 0 ({r.returncode})")
        settled = "outcome not_attempted" if want == "R" else "outcome done"
        check(manifest_state(archive, qid) == settled, f"6: {tag}: settled from the queue file: {settled}")
        # From the queue file: a logfile entry the kill left behind is shown
        # by postqueue -j until the next delivery attempt (README).
        files = glob.glob(os.path.join(inst.spool, "deferred", "*", qid))
        now = [rcpt_type(f, a) for f in files for a in (dead, f"{tag}@keep.example")]
        check(now == [want, "R"], f"6: {tag}: released to deferred, nothing lost ({files}: {now})")
    again = inst.qpurge("--domain", "dead.example", "--id", ids["zcopied"], "--mixed", "cancel", "--archive", archive,
                        "--yes")
    check(again.returncode == 0, f"6: the cancel the kill stopped is done by the same command again ({again.returncode})")
    before = set(recipients(inst))
    for rundir in sorted(glob.glob(os.path.join(archive, "*"))):
        r = inst.qpurge("--restore", rundir, "--yes")
        print(r.stdout, r.stderr)
    new = {m["queue_id"]: m for m in inst.postqueue() if m["queue_id"] not in before}
    copies = sorted((m["sender"].split("@")[0], tuple(r["address"] for r in m["recipients"])) for m in new.values())
    check(copies == [(t, (f"{t}@dead.example",)) for t in points],
          f"6: restoring every run gives back one copy per message, to the canceled recipient only ({copies})")
    for t in points:
        files = glob.glob(os.path.join(inst.spool, "deferred", "*", ids[t]))
        now = [rcpt_type(f, a) for f in files for a in (f"{t}@dead.example", f"{t}@keep.example")]
        check(now == ["D", "R"], f"6: {t} keeps its kept recipient only ({now})")
    inst.postsuper("-d", "-", input="".join(q + "\n" for q in new))


def killed(inst, held_id):
    ids = []
    for i in range(12):
        run(["sendmail", "-C", inst.conf, "-f", f"k{i}@sender.test", f"x{i}@dead.example", f"y{i}@keep.example"],
            input=f"Subject: k{i}\n\nbody\n")
    end = time.time() + 60
    while time.time() < end:
        q = [m for m in inst.postqueue() if m["sender"].startswith("k")]
        if len(q) == 12 and all(m["queue_name"] == "deferred" for m in q):
            ids = [m["queue_id"] for m in q]
            break
        time.sleep(0.5)
    check(len(ids) == 12, "4: twelve more mixed messages are deferred")
    args = ["--domain", "dead.example", "--mixed", "cancel", "--yes", "--older-than", "0s"]
    p = subprocess.Popen([*inst_cmd(inst), *args, "--rate", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2)
    p.kill()
    p.wait()
    print("-- killed with SIGKILL; on hold now:", sorted(os.listdir(os.path.join(inst.spool, "hold"))))
    again = inst.qpurge(*args)
    print(again.stdout, again.stderr)
    check(again.returncode == 0, f"4: the same command again exits 0 ({again.returncode})")
    check("did not finish" in again.stderr, "4: ... and says the killed run did not finish")
    after = recipients(inst)
    for i, q in enumerate(sorted(ids)):
        check(after.get(q, ("gone", []))[0] == "deferred" and len(after[q][1]) == 1 and
              after[q][1][0].endswith("@keep.example"), f"4: {q} is in deferred with its kept recipient only ({after.get(q)})")
    check(after.get(held_id) == ("hold", KEPT["m6"]), f"4: m6 is still on hold with l only ({after.get(held_id)})")
    held = [q for q, (queue, _) in after.items() if queue == "hold"]
    check(held == [held_id], f"4: nothing else is left on hold ({held})")


def inst_cmd(inst):
    return [QPURGE, "-c", inst.conf, "--audit-log", os.path.join(inst.root, "audit.jsonl")]


def main():
    skip_unless_possible()
    with Instance("cancel") as inst:
        ids = submit(inst)
        inst.postsuper("-h", ids["m6"])
        bodies = {t: subprocess.run(["postcat", "-c", inst.conf, "-b", "-q", q], capture_output=True, check=True).stdout
                  for t, q in ids.items()}
        before = recipients(inst)

        p = inst.qpurge("--domain", "dead.example", "--mixed", "cancel", "--dry-run")
        check(p.returncode == 0 and recipients(inst) == before, f"0: the dry run changes nothing (exit {p.returncode})")
        check("    mixed, keeps: b@keep.example\n" in p.stdout, "0: the dry run shows what m1 keeps")

        os.environ["QPURGE_STATE_DIR"] = os.path.join(inst.root, "state")
        archive = os.path.join(inst.root, "archive")
        p = inst.qpurge("--domain", "dead.example", "--mixed", "cancel", "--archive", archive, "--dry-run")
        check(p.returncode == 0 and recipients(inst) == before and not os.path.exists(archive),
              f"0: the dry run with --archive changes nothing and makes no archive (exit {p.returncode})")
        check(f"dry run: --archive {archive} would keep 4 messages" in p.stdout,
              "0: the dry run says the originals would be archived")
        p = inst.qpurge("--domain", "dead.example", "--mixed", "cancel", "--yes", "--older-than", "0s",
                        "--archive", archive)
        print(p.stdout, p.stderr)
        check(p.returncode == 0, f"1: qpurge --mixed cancel exits 0 ({p.returncode}: {p.stderr.strip()[-400:]})")
        check("canceled 4 recipients in 3 messages" in p.stdout, "1: the summary counts 4 recipients in 3 messages")
        after = recipients(inst)
        for t in ("m1", "m2", "m4", "m5"):
            check(after.get(ids[t]) == ("deferred", sorted(KEPT[t])),
                  f"1: postqueue -j lists exactly {t}'s kept recipients ({after.get(ids[t])})")
        check(ids["m3"] not in after, "1: m3, whose every recipient matched, is deleted")
        check(after.get(ids["m6"]) == ("hold", KEPT["m6"]), f"1: m6 is still on hold, with l only ({after.get(ids['m6'])})")

        deliver(inst, ids, bodies)

        with open(os.path.join(inst.root, "maillog")) as f:
            log = f.read()
        bad = [line for line in log.splitlines()
               if re.search(r": (warning|error|fatal|panic): ", line) and any(q in line for q in ids.values())]
        check(not bad, f"3: the maillog has no warning about these queue files ({bad[:3]})")
        check(recipients(inst).get(ids["m6"]) == ("hold", KEPT["m6"]), "3: m6 is still on hold")
        restore_canceled(inst, ids, bodies, archive)
        held = [q for q, (queue, _) in recipients(inst).items() if queue == "hold"]
        check(held == [ids["m6"]], f"5: nothing but m6 is left on hold ({held})")
        killed_archive(inst)
        killed(inst, ids["m6"])
    finish()


if __name__ == "__main__":
    main()
