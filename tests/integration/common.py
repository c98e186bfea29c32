"""Shared helpers for qpurge's integration tests.

Each test runs a real, private Postfix instance under /tmp built by
scripts/pfsandbox.py (imported here), fills it with real mail, and judges qpurge with Postfix's
own tools (postqueue -j, postcat, postsuper, qshape). Expectations are computed
from postqueue -j with jq, never with qpurge's code.

Exit status: 0 pass, 1 fail, 77 skip (not root, or Postfix not installed).
"""
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import pfsandbox  # noqa: E402

QPURGE = os.environ.get("QPURGE", os.path.join(REPO, "build", "qpurge"))
# The modules (qpurge_content.so...) are beside the program in the build tree.
os.environ.setdefault("QPURGE_MODULE_DIR", os.path.dirname(os.path.abspath(QPURGE)))

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
    """A private Postfix instance built and driven by pfsandbox; the keyword
    arguments are pfsandbox.start's (long_ids, smtpd_port, milter, live)."""

    def __init__(self, name, **start_options):
        self.root = tempfile.mkdtemp(prefix=f"qpurge-it-{name}-", dir="/tmp")
        self.conf = os.path.join(self.root, "conf")
        self.spool = os.path.join(self.root, "spool")
        self.start_options = start_options

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        if not exc[0] and not os.environ.get("QPURGE_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            print(f"kept {self.root}")

    def start(self):
        """Starts Postfix (again, after stop) with the options given at creation."""
        pfsandbox.start(self.root, **self.start_options)

    def stop(self):
        """Stops Postfix and the Milter; postsuper, postcat and qshape still work."""
        pfsandbox.stop(self.root)

    def fill(self, count, seed=1):
        t = time.time()
        summary = pfsandbox.fill(self.root, count, seed)
        print(f"filled {self.root} in {time.time() - t:.1f}s: {summary}")

    def postqueue(self):
        """postqueue -j, one dict per message."""
        return pfsandbox.queue(self.root)

    def postqueue_lines(self):
        return pfsandbox.queue_lines(self.root)

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
