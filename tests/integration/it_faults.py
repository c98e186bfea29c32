#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Faults around postsuper and the audit log (issue 8), on a real instance.

Each case asserts that nothing outside the selection was removed, that the
report is true (what qpurge says was removed is what postqueue -j no longer
shows), and that the exit status follows the contract. Where postsuper must
misbehave on purpose, a small wrapper script stands in front of the real
postsuper (it still does the real work, then fails the way a case needs).
"""
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, Instance, check, finish, on_terminal, run, skip_unless_possible  # noqa: E402


def wrapper(inst, name, body):
    path = os.path.join(inst.root, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


def queue(inst, n, tag):
    for i in range(n):
        run(["sendmail", "-C", inst.conf, "-f", f"{tag}@fault.example", f"r{i}@far.example"], input="Subject: x\n\ny\n")
    time.sleep(1)
    inst.settle()
    return {m["queue_id"] for m in inst.postqueue() if m["sender"] == f"{tag}@fault.example"}


def results(p):
    out = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        out[r["queue_id"]] = r["result"]
    return out


def judged(inst, label, p, selected, before):
    """The report is true and nothing outside the selection went."""
    after = inst.ids()
    gone = before - after
    res = results(p)
    reported = {i for i, r in res.items() if r == "done"}
    check(gone <= selected, f"{label}: nothing outside the selection removed")
    check(reported == gone, f"{label}: reported removed ({len(reported)}) = really gone ({len(gone)})")
    return res


def main():
    skip_unless_possible()
    with Instance("faults") as inst:
        other = queue(inst, 5, "bystander")

        # postsuper missing, or not executable: fatal before any change.
        sel = queue(inst, 3, "a")
        before = inst.ids()
        p = inst.qpurge("--sender", "a@fault.example", "--yes", "--postsuper", "/nonexistent/postsuper")
        check(p.returncode == 2 and inst.ids() == before and "cannot execute" in p.stderr,
              f"missing postsuper: exit 2, nothing changed ({p.stderr.strip()})")
        noexec = os.path.join(inst.root, "noexec")
        open(noexec, "w").close()
        os.chmod(noexec, 0o644)
        p = inst.qpurge("--sender", "a@fault.example", "--yes", "--postsuper", noexec)
        check(p.returncode == 2 and inst.ids() == before, "postsuper not executable: exit 2, nothing changed")

        # A copy of a spool can be read but never purged: postsuper would act
        # on the instance's own queue, where same-named messages may be others.
        copy = os.path.join(inst.root, "copy")
        os.makedirs(copy)
        run(["cp", "-a", os.path.join(inst.spool, "deferred"), os.path.join(copy, "deferred")])
        p = inst.qpurge("--queue-dir", copy, "--sender", "a@fault.example", "--yes")
        check(p.returncode == 2 and inst.ids() == before and "never purged" in p.stderr,
              f"--queue-dir of a copy: refused, exit 2, nothing changed ({p.stderr.strip()[:120]})")
        p = inst.qpurge("--queue-dir", copy, "--sender", "a@fault.example", "--dry-run", "--format", "ids")
        check(set(p.stdout.split()) == sel, "--queue-dir of a copy: a dry run reads it")

        # Not root: a clear refusal before anything is read. Set-uid: refused.
        p = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", QPURGE, "-c", inst.conf,
                 "--sender", "a@fault.example", "--yes"], check_rc=False)
        check(p.returncode == 2 and "superuser" in p.stderr and inst.ids() == before,
              f"not root: refused, exit 2 ({p.stderr.strip()[:120]})")
        suid = os.path.join(inst.root, "qpurge-suid")
        shutil.copy(QPURGE, suid)
        os.chown(suid, 65534, 65534)
        os.chmod(suid, 0o4755)
        p = run([suid, "--version"], check_rc=False)
        check(p.returncode == 2 and "set-uid" in p.stderr, f"set-uid: refused ({p.stderr.strip()[:120]})")

        # postsuper exiting non-zero without doing anything.
        w = wrapper(inst, "fatal", 'echo "postsuper: fatal: something broke" >&2; exit 1')
        p = inst.qpurge("--sender", "a@fault.example", "--yes", "--format", "json", "--postsuper", w)
        res = judged(inst, "postsuper exits 1", p, sel, before)
        check(set(res.values()) == {"failed"} and p.returncode == 3, f"postsuper exits 1: all failed, exit 3 ({p.returncode})")
        check("fatal: something broke" in p.stderr, "postsuper's own words are shown")

        # postsuper printing something unexpected, but doing its work.
        w = wrapper(inst, "chatty", 'echo "postsuper: warning: the moon is full" >&2\nexec /usr/sbin/postsuper "$@"')
        p = inst.qpurge("--sender", "a@fault.example", "--yes", "--format", "json", "--postsuper", w)
        res = judged(inst, "unexpected output", p, sel, before)
        check(set(res.values()) == {"done"} and p.returncode == 0, "unexpected output: the IDs are still judged by their own lines")
        check("the moon is full" in p.stderr, "the unexpected line is reported")

        # postsuper dying in the middle of a batch: two IDs reach the real
        # postsuper, then the wrapper dies by a signal.
        sel = queue(inst, 5, "b")
        before = inst.ids()
        w = wrapper(inst, "dies", 'head -n 2 | /usr/sbin/postsuper "$@"\nkill -9 $$')
        p = inst.qpurge("--sender", "b@fault.example", "--yes", "--format", "json", "--postsuper", w)
        res = judged(inst, "postsuper dies mid-batch", p, sel, before)
        check(list(res.values()).count("done") == 2 and list(res.values()).count("failed") == 3 and p.returncode == 3,
              f"postsuper dies mid-batch: 2 done, 3 failed, exit 3 ({res}, {p.returncode})")

        # SIGINT or SIGTERM during a purge: the batch under way finishes, no
        # more are handed over, the report is exact.
        w = wrapper(inst, "slow", 'sleep 2\nexec /usr/sbin/postsuper "$@"')
        for sig, tag in ((signal.SIGINT, "c"), (signal.SIGTERM, "d")):
            sel = queue(inst, 6, tag)
            before = inst.ids()
            proc = subprocess.Popen([QPURGE, "-c", inst.conf, "--audit-log", os.path.join(inst.root, "audit.jsonl"),
                                     "--sender", f"{tag}@fault.example", "--yes", "--format", "json", "--batch-size",
                                     "2", "--postsuper", w], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(1)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=60)

            class P:
                stdout = out
            name = signal.Signals(sig).name
            res = judged(inst, name, P, sel, before)
            vals = list(res.values())
            check(vals.count("done") == 2 and vals.count("not_attempted") == 4 and proc.returncode == 3,
                  f"{name}: the running batch of 2 finished, 4 not attempted, exit 3 ({vals}, {proc.returncode})")
            check("interrupted" in err, f"{name}: the summary says it was interrupted")

        # On a terminal qpurge asks first; the default is no.
        sel = queue(inst, 2, "e")
        before = inst.ids()
        out, rc = on_terminal([QPURGE, "-c", inst.conf, "--audit-log", os.path.join(inst.root, "audit.jsonl"),
                               "--sender", "e@fault.example"], b"\n")
        check(b"[y/N]" in out and rc == 1 and inst.ids() == before, f"terminal: Enter means no, nothing changed (exit {rc})")
        out, rc = on_terminal([QPURGE, "-c", inst.conf, "--audit-log", os.path.join(inst.root, "audit.jsonl"),
                               "--sender", "e@fault.example"], b"y\n")
        check(rc == 0 and not (sel & inst.ids()), f"terminal: y acts (exit {rc})")

        # Disk full under the audit log: nothing changes.
        mnt = os.path.join(inst.root, "full")
        os.mkdir(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", mnt]).returncode == 0:
            try:
                with open(os.path.join(mnt, "filler"), "wb") as f:
                    try:
                        f.write(b"x" * 65536)
                    except OSError:
                        pass
                before = inst.ids()
                p = run([QPURGE, "-c", inst.conf, "--audit-log", os.path.join(mnt, "audit.jsonl"),
                         "--sender", "c@fault.example", "--yes"], check_rc=False)
                check(p.returncode == 2 and inst.ids() == before, f"disk full: exit 2, nothing changed ({p.stderr.strip()})")
            finally:
                subprocess.run(["umount", mnt])
        else:
            print("note: cannot mount a tmpfs here; disk-full case not run")

        # The disk fills between the intent and the result record: the torn
        # result record is rolled back, qpurge says so and exits 3, and every
        # line left in the log is a whole JSON record.
        sel = queue(inst, 40, "t")
        mnt = os.path.join(inst.root, "tight")
        os.mkdir(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", mnt]).returncode == 0:
            try:
                with open(os.path.join(mnt, "filler"), "wb") as f:
                    f.write(b"x" * 12288)  # one 4 KiB page left: the intent fits, intent + result do not
                log = os.path.join(mnt, "audit.jsonl")
                p = run([QPURGE, "-c", inst.conf, "--audit-log", log, "--sender", "t@fault.example", "--yes"],
                        check_rc=False)
                check(p.returncode == 3 and not (sel & inst.ids()),
                      f"result record cannot be written: the purge is done and the exit status is 3 ({p.returncode})")
                check("could not be written" in p.stderr, "result record cannot be written: said loudly")
                with open(log) as f:
                    lines = f.read().splitlines()
                parsed = [json.loads(l) for l in lines]  # raises on a torn line
                check([r["event"] for r in parsed] == ["intent"], f"the audit log holds only whole records ({len(lines)} lines)")
            finally:
                subprocess.run(["umount", mnt])

        # Reader-side check: every line of the audit log is one whole JSON record.
        with open(os.path.join(inst.root, "audit.jsonl")) as f:
            records = [json.loads(l) for l in f.read().splitlines()]
        check(records and all(r["event"] in ("intent", "result") for r in records),
              f"audit log: all {len(records)} lines parse as records")

        # --verbose reports every ID's outcome, not only the ones not done.
        sel = queue(inst, 2, "g")
        p = inst.qpurge("--sender", "g@fault.example", "--yes", "--verbose")
        check(all(f"{i}  deferred  removed" in p.stdout for i in sel), "--verbose: a line per ID removed")
        sel = queue(inst, 2, "h")
        p = inst.qpurge("--sender", "h@fault.example", "--yes")
        check(not any(i in p.stdout for i in sel) and "removed 2 of 2 planned" in p.stdout,
              "without --verbose: only the summary for IDs that were removed")

        # The one-line summary goes to syslog (facility mail, ident qpurge).
        # This machine has no syslog daemon; listen on /dev/log ourselves.
        if not os.path.exists("/dev/log"):

            sel = queue(inst, 1, "f")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind("/dev/log")
            sock.settimeout(5)
            try:
                inst.qpurge("--sender", "f@fault.example", "--yes")
                msg = sock.recv(4096).decode(errors="replace")
            except OSError as e:
                msg = str(e)
            finally:
                sock.close()
                os.unlink("/dev/log")
            # <22> = facility mail (2) * 8 + info (6)
            check(msg.startswith("<22>") and "qpurge[" in msg and "removed 1 of 1 planned" in msg,
                  f"syslog: {msg.strip()[:160]}")
        else:
            print("note: /dev/log exists (a syslog daemon runs); the syslog line is not checked here")

        check(other <= inst.ids(), "bystander messages survived every fault")
    finish()


if __name__ == "__main__":
    main()
