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
  4. Killed: twelve more mixed messages, a cancel run slowed with --rate and
     killed with SIGKILL while it holds, then the same command again: every
     message is in deferred with its kept recipient only, none left on hold
     but m6, and the held m6 still has l only.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, Instance, check, finish, run, skip_unless_possible  # noqa: E402

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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def deliver(inst, ids, bodies):
    """Check 2: a real smtp-sink as the relay; what each message brings."""
    sinkdir = os.path.join(inst.root, "sink")
    os.makedirs(sinkdir)
    shutil.chown(sinkdir, "postfix")
    port = free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "postfix", "-d", os.path.join(sinkdir, "%M."), f"127.0.0.1:{port}",
                             "100"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        run(["postconf", "-c", inst.conf, "-e", f"relayhost = [127.0.0.1]:{port}"])
        run(["postfix", "-c", inst.conf, "reload"])
        time.sleep(1)
        run(["postqueue", "-c", inst.conf, "-f"])
        end = time.time() + 60
        while time.time() < end and len(inst.postqueue()) > 1:
            time.sleep(0.5)
        left = recipients(inst)
        check(list(left) == [ids["m6"]], f"2: every message but the held one was delivered ({left})")
        got = {}
        for name in os.listdir(sinkdir):
            with open(os.path.join(sinkdir, name), "rb") as f:
                data = f.read().replace(b"\r\n", b"\n")
            # smtp-sink's envelope lines run into the message headers; the
            # body follows the first empty line. postcat -b prints the empty
            # line that ends the headers, then the body; smtp-sink writes one
            # empty line after each message.
            head, _, rest = data.partition(b"\n\n")
            tag = re.search(rb"^Subject: (m\d)$", head, re.M)
            rcpts = re.findall(rb"^X-Rcpt-Args: <([^>]*)>", head, re.M)
            if tag:
                t = tag.group(1).decode()
                got.setdefault(t, []).extend(r.decode() for r in rcpts)
                check(b"\n" + rest == bodies[t] + b"\n",
                      f"2: {t}'s delivered body is byte-identical to postcat -b of the original")
        for t in ("m1", "m2", "m4", "m5"):
            check(sorted(got.get(t, [])) == sorted(KEPT[t]),
                  f"2: {t} was delivered to its kept recipients only ({got.get(t)})")
        check("m3" not in got and "m6" not in got, f"2: m3 (deleted) and m6 (on hold) were not delivered ({sorted(got)})")
        canceled = {r.lower() for t in ("m1", "m2", "m3", "m6") for r in MESSAGES[t] if "@dead.example" in r.lower()}
        received = {r.lower() for rs in got.values() for r in rs}
        check(not canceled & received, f"2: no canceled recipient received anything ({sorted(canceled & received)})")
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        run(["postconf", "-c", inst.conf, "-e", "relayhost = [127.0.0.1]:9"])
        run(["postfix", "-c", inst.conf, "reload"])


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

        p = inst.qpurge("--domain", "dead.example", "--mixed", "cancel", "--yes", "--older-than", "0s")
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
        killed(inst, ids["m6"])
    finish()


if __name__ == "__main__":
    main()
