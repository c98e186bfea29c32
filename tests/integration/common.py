"""Shared helpers for qpurge's integration tests.

Each test runs a real, private Postfix instance under /tmp built by
scripts/pfsandbox.py (imported here), fills it with real mail, and judges qpurge with Postfix's
own tools (postqueue -j, postcat, postsuper, qshape). Expectations are computed
from postqueue -j with jq, never with qpurge's code.

Exit status: 0 pass, 1 fail, 77 skip (not root, or Postfix not installed).
"""
import contextlib
import os
import pty
import re
import shutil
import socket
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


def wait_for(cond, what, timeout=40):
    """Polls cond() until it is true; False (and says so) after timeout seconds."""
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.3)
    print(f"timed out after {timeout}s waiting for: {what}")
    return False


class SmtpSink:
    """A real smtp-sink on a loopback port chosen at creation, down until
    start(): each mail transaction is dumped to a file of its own in
    ROOT/NAME, read back by received()."""

    def __init__(self, root, name):
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        shutil.chown(self.dir, "postfix")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = None

    def start(self, *options):
        """Starts it (options: smtp-sink's, e.g. "-w", "1") and waits until it answers."""
        self.proc = subprocess.Popen(["smtp-sink", "-u", "postfix", *options, "-d", os.path.join(self.dir, "%M."),
                                      f"127.0.0.1:{self.port}", "100"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        check(wait_for(up, f"smtp-sink on port {self.port}", 30), f"smtp-sink is up on port {self.port}")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def files(self):
        """How many transactions it has received (begun to receive)."""
        return len(os.listdir(self.dir))

    def received(self):
        """(Message-ID, recipient in lower case) for each recipient of each
        transaction, as often as it was received."""
        got = []
        for name in sorted(os.listdir(self.dir)):
            with open(os.path.join(self.dir, name), "rb") as f:
                # smtp-sink's envelope lines (X-Rcpt-Args: <...>) run into the
                # message's headers; the body follows the first empty line.
                head = f.read().replace(b"\r\n", b"\n").partition(b"\n\n")[0].decode(errors="replace")
            msgid = re.search(r"^Message-ID: <([^>]*)>", head, re.M | re.I)
            for r in re.findall(r"^X-Rcpt-Args: <([^>]*)>", head, re.M):
                got.append((msgid.group(1) if msgid else "?", r.lower()))
        return got


@contextlib.contextmanager
def relay_through_sink(inst, name="sink"):
    """The instance relays through a real smtp-sink (SmtpSink) while the
    block runs; afterwards the sink is stopped and the instance relays to a
    dead port again. Yields the sink (what an earlier one received is gone)."""
    shutil.rmtree(os.path.join(inst.root, name), ignore_errors=True)
    sink = SmtpSink(inst.root, name)
    sink.start()
    try:
        run(["postconf", "-c", inst.conf, "-e", f"relayhost = [127.0.0.1]:{sink.port}"])
        run(["postfix", "-c", inst.conf, "reload"])
        time.sleep(1)
        yield sink
    finally:
        sink.stop()
        run(["postconf", "-c", inst.conf, "-e", "relayhost = [127.0.0.1]:9"])
        run(["postfix", "-c", inst.conf, "reload"])
