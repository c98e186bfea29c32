#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Asking before acting, on a real instance (issue 24, points 1, 4 and 5).

- Without a terminal on standard input (cron, ssh without -t, a pipe), an
  acting run without --yes refuses: exit 2, nothing changed, and it says to
  add --yes; with --yes it acts.
- On a terminal with standard output piped: the plan's lines go down the
  pipe first; then the digest (counts, ages, top domains and senders) comes
  on the terminal right above the question; "n" changes nothing, "y" acts.
- --restore asks on a terminal and refuses without one unless --yes; without
  -c it restores into the instance its archive run recorded.
"""
import fcntl
import glob
import os
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, Instance, check, finish, run, skip_unless_possible  # noqa: E402
from it_lock import enqueue  # noqa: E402


def on_terminal_piped(args, answer):
    """Runs args with stdin and stderr on a new pseudo-terminal (its
    controlling terminal, so /dev/tty is it) and stdout on a pipe. Types
    `answer` once "[y/N]" shows. Returns (terminal text, stdout text, what
    stdout held when the question showed, exit status)."""
    master, slave = os.openpty()
    r, w = os.pipe()

    def child():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(args, stdin=slave, stdout=w, stderr=slave, preexec_fn=child)
    os.close(slave)
    os.close(w)
    os.set_blocking(r, False)
    tty, out, at_question = b"", b"", None
    while True:
        try:
            out += os.read(r, 65536)
        except BlockingIOError:
            pass
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        tty += data
        if at_question is None and b"[y/N]" in tty:
            time.sleep(0.2)
            try:
                out += os.read(r, 65536)
            except BlockingIOError:
                pass
            at_question = out
            os.write(master, answer)
    status = p.wait()
    os.set_blocking(r, True)
    while True:
        data = os.read(r, 65536)
        if not data:
            break
        out += data
    os.close(r)
    os.close(master)
    return tty.decode(errors="replace"), out.decode(errors="replace"), (at_question or b"").decode(), status


def no_terminal(inst, ids):
    p = inst.qpurge("--sender", "p@lock.example", input="")
    check(p.returncode == 2 and "standard input is not a terminal" in p.stderr and "add --yes" in p.stderr,
          f"1: no terminal, no --yes: exit 2, says to add --yes ({p.returncode}: {p.stderr.strip()[:200]})")
    check(ids <= inst.ids(), "1: ... and nothing changed")


def prompt_with_stdout_piped(inst, ids):
    base = [QPURGE, "-c", inst.conf, "--audit-log", os.path.join(inst.root, "audit.jsonl"), "--sender",
            "p@lock.example"]
    tty, out, at_question, rc = on_terminal_piped(base, b"n\n")
    plan = [l for l in out.splitlines() if l.split()[:1] and l.split()[0] in ids]
    check(rc == 1 and ids <= inst.ids(), f"4: answered n: exit 1, nothing changed ({rc})")
    check(len([l for l in at_question.splitlines() if l.split()[:1] and l.split()[0] in ids]) == len(ids),
          f"4: the plan's lines were down the pipe before the question ({at_question!r})")
    check(len(plan) == len(ids) and "[y/N]" not in out, f"4: stdout (piped) has the plan and no question ({out!r})")
    lines = [l.strip() for l in tty.replace("\r", "").splitlines() if l.strip()]
    q = next((i for i, l in enumerate(lines) if "[y/N]" in l), None)
    check(q is not None and lines[q].startswith(f"delete these {len(ids)} messages?"),
          f"4: the question is on the terminal ({lines})")
    if q is not None:
        check(q >= 4 and lines[q - 1].startswith("top senders: p@lock.example")
              and lines[q - 2].startswith("top recipient domains: far.example")
              and lines[q - 3].startswith("arrived ")
              and lines[q - 4].startswith(f"selection: {len(ids)} messages"),
              f"4: the digest is right above the question, on the terminal ({lines[max(0, q - 5):q + 1]})")
    tty, out, _, rc = on_terminal_piped(base + ["--archive", os.path.join(inst.root, "archive")], b"y\n")
    check(rc == 0 and not (ids & inst.ids()), f"4: answered y: exit 0, the messages are gone ({rc}: {tty[-300:]!r})")


def restore(inst, ids):
    runs = glob.glob(os.path.join(inst.root, "archive", "*"))
    check(len(runs) == 1, f"5: one archive run ({runs})")
    rundir = runs[0]
    p = inst.qpurge("--restore", rundir, input="")
    check(p.returncode == 2 and "add --yes" in p.stderr and not (ids & inst.ids()),
          f"5: --restore without a terminal or --yes: exit 2, nothing put back ({p.stderr.strip()[:200]})")
    tty, out, _, rc = on_terminal_piped([QPURGE, "-c", inst.conf, "--audit-log", os.path.join(inst.root, "a.jsonl"),
                                         "--restore", rundir], b"n\n")
    check(rc == 1 and f"restore these {len(ids)} messages to hold" in tty and len(inst.postqueue()) == 0,
          f"5: --restore on a terminal asks; n puts nothing back ({rc}: {tty[-300:]!r})")
    # No -c: the instance the run recorded, not /etc/postfix.
    p = run([QPURGE, "--audit-log", os.path.join(inst.root, "a.jsonl"), "--restore", rundir, "--yes"], check_rc=False)
    held = [m for m in inst.postqueue() if m["queue_name"] == "hold"]
    check(p.returncode == 0 and len(held) == len(ids),
          f"5: --restore --yes without -c puts them back on the run's own instance ({p.returncode}: "
          f"{p.stderr.strip()[:200]})")


def main():
    skip_unless_possible()
    with Instance("prompt") as inst:
        ids = enqueue(inst, "p", 3)
        check(len(ids) == 3, f"three messages queued ({ids})")
        no_terminal(inst, ids)
        prompt_with_stdout_piped(inst, ids)
        restore(inst, ids)
    finish()


if __name__ == "__main__":
    main()
