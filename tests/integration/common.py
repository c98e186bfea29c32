"""Shared helpers for qpurge's integration tests.

Each test runs a real, private Postfix instance under /tmp through
scripts/pfsandbox, fills it with real mail, and judges qpurge with Postfix's
own tools (postqueue -j, postcat, postsuper, qshape). Expectations are computed
from postqueue -j with jq, never with qpurge's code.

Exit status: 0 pass, 1 fail, 77 skip (not root, or Postfix not installed).
"""
import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PFSANDBOX = os.path.join(REPO, "scripts", "pfsandbox")
QPURGE = os.environ.get("QPURGE", os.path.join(REPO, "build", "qpurge"))

failures = []


def skip_unless_possible():
    if os.geteuid() != 0:
        print("SKIP: integration tests run as root (postsuper requires it)")
        sys.exit(77)
    for tool in ("/usr/sbin/postsuper", "/usr/sbin/postqueue", "/usr/sbin/postfix"):
        if not os.access(tool, os.X_OK):
            print(f"SKIP: {tool} is not installed")
            sys.exit(77)
    if not os.access(QPURGE, os.X_OK):
        print(f"FAIL: qpurge binary not found at {QPURGE}")
        sys.exit(1)


def check(cond, what):
    """Records a failed assertion and goes on; finish() sets the exit status."""
    if cond:
        print(f"ok: {what}")
    else:
        print(f"FAIL: {what}")
        failures.append(what)
    return cond


def finish():
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")
    sys.exit(0)


def run(cmd, input=None, check_rc=True, env=None, timeout=600):
    p = subprocess.run(cmd, input=input, capture_output=True, text=True, env=env, timeout=timeout)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}\nstdout:{p.stdout[-2000:]}\nstderr:{p.stderr[-2000:]}")
    return p


def on_terminal(args, answer=None):
    """Runs args on a pseudo-terminal (stdin, stdout and stderr) and returns
    (everything written, exit status). When `answer` is given, it is typed
    once qpurge asks its [y/N] question."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(args[0], args)
    out = b""
    answered = answer is None
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
        if not answered and b"[y/N]" in out:
            os.write(fd, answer)
            answered = True
    _, status = os.waitpid(pid, 0)
    return out, os.waitstatus_to_exitcode(status)


def jq(expr, lines, *args):
    """Runs jq -r EXPR over JSON Lines; returns the output lines."""
    p = run(["jq", "-r", *args, expr], input="".join(l if l.endswith("\n") else l + "\n" for l in lines))
    return [l for l in p.stdout.splitlines() if l]


class Instance:
    """A private Postfix instance built and driven by scripts/pfsandbox."""

    def __init__(self, name, *start_flags):
        self.root = tempfile.mkdtemp(prefix=f"qpurge-it-{name}-", dir="/tmp")
        self.conf = os.path.join(self.root, "conf")
        self.spool = os.path.join(self.root, "spool")
        self.flags = list(start_flags)

    def __enter__(self):
        run([PFSANDBOX, "start", self.root, *self.flags])
        return self

    def __exit__(self, *exc):
        subprocess.run([PFSANDBOX, "stop", self.root], capture_output=True)
        if not exc[0] and not os.environ.get("QPURGE_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            print(f"kept {self.root}")

    def fill(self, count, seed=1):
        t = time.time()
        p = run([PFSANDBOX, "fill", self.root, "--count", str(count), "--seed", str(seed)], timeout=1800)
        print(f"filled {self.root} in {time.time() - t:.1f}s: {p.stdout.strip()}")

    def postqueue(self):
        """postqueue -j, one dict per message."""
        p = run(["postqueue", "-c", self.conf, "-j"])
        return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]

    def postqueue_lines(self):
        return run(["postqueue", "-c", self.conf, "-j"]).stdout.splitlines()

    def ids(self):
        return {m["queue_id"] for m in self.postqueue()}

    def qpurge(self, *args, check_rc=False, input=None, env=None, timeout=600):
        return run([QPURGE, "-c", self.conf, "--audit-log", os.path.join(self.root, "audit.jsonl"), *args],
                   check_rc=check_rc, input=input, env=env, timeout=timeout)

    def postsuper(self, *args, input=None):
        return run(["postsuper", "-c", self.conf, *args], input=input)

    def settle(self, timeout=60):
        """Waits until incoming and active are empty."""
        end = time.time() + timeout
        while time.time() < end:
            if not any(m["queue_name"] in ("incoming", "active", "maildrop") for m in self.postqueue()):
                return
            time.sleep(0.5)
