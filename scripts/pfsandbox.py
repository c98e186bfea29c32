# SPDX-License-Identifier: MIT
"""pfsandbox - a private, real Postfix instance under one folder, and a
realistic queue in it, for qpurge's tests, benchmarks and for trying qpurge
on real mail without touching the system's Postfix.

Usage (as root; Postfix from Debian's `postfix` package, python3):
  pfsandbox start ROOT [--long-ids] [--smtpd-port PORT] [--milter] [--live]
      Creates ROOT/conf (main.cf, master.cf), ROOT/spool (queue_directory),
      ROOT/data, ROOT/mail (local deliveries), ROOT/maillog, and starts
      Postfix. Remote mail is deferred (relayhost [127.0.0.1]:9, where
      nothing listens) and stays still: retries once a day, unless --live
      (retries every 10 to 20 seconds, for tests of a moving queue).
      No listener on port 25. --long-ids: enable_long_queue_ids = yes.
      --smtpd-port PORT: an smtpd on 127.0.0.1:PORT (not chrooted) with
      Cyrus SASL (sasldb /etc/sasldb2; users bob@mx.test.invalid and
      carol@mx.test.invalid, password "secret"; relaying needs AUTH).
      --milter: builds tests/milter/test_milter.c into ROOT/test_milter,
      runs it on a loopback TCP port and sets smtpd_milters and
      non_smtpd_milters; it edits messages whose Subject has "[milter]".
      If ROOT is already running, says so and changes nothing.
  pfsandbox fill ROOT [--count N] [--seed S]
      Queues about N messages (default 2000, seed 1) into a running ROOT
      and waits until incoming and active are empty; prints one line:
      "N messages in Ts: deferred X, hold Y". The corpus: ~50 sender and
      recipient domains in upper, lower and mixed case; example.com and
      its lookalikes (notexample.com, example.com.evil.net,
      sub.example.com, example.co, exAmple.COM, ...); multi-recipient
      mixed-domain messages; null-sender mail; real MAILER-DAEMON bounces
      (mail to unknown local users); sendmail -t (recipients only in
      To:/Cc:); done recipients (root@mx.test.invalid is delivered
      locally); N/300 (at most 8) messages of 2 to 4 MB; held messages;
      force-expired ones (mode 0710, in hold and, unless --live, in
      deferred); From: headers and bodies naming domains that are not
      the envelope's (a grep of the spool selects far too much); with
      --milter, Milter-edited messages; with --smtpd-port, SASL
      submissions by bob (most) and carol from various HELO names and
      127.0.0.x client addresses. From 40 messages on, the first 18 are
      one or two of each kind. The same seed gives the same messages.
  pfsandbox stop ROOT       stop Postfix and the Milter
  pfsandbox status ROOT     exit 0 if running, 1 if not
  pfsandbox corpus ROOT [--smtpd-port PORT] [--count N] [--seed S]
      start --milter --smtpd-port 2525 (or PORT), then fill.

Then, for example:
  qpurge -c ROOT/conf --domain example.com --dry-run
  postqueue -c ROOT/conf -j | jq .      qshape -c ROOT/conf deferred
  pfsandbox stop ROOT && rm -rf ROOT

As a Python module (scripts/pfsandbox is its command line; the integration
tests import it): start(root, long_ids=, smtpd_port=, milter=, live=),
fill(root, count, seed) -> the summary line, stop(root), status(root) ->
running or not, corpus(root, smtpd_port, count, seed), queue(root) ->
postqueue -j as dicts; the corpus itself, drawn without touching Postfix, is
scripts/pfsandbox_corpus.py. A fatal condition raises Error (FillError when
more than 1% of the submissions failed): its text is what the command prints
after "pfsandbox: " before it exits 1.
"""
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

from pfsandbox_corpus import body, jobs, message

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Error(Exception):
    """A fatal condition: nothing more is done."""


class FillError(Error):
    """More than 1% of the submissions failed; `summary` is fill's line."""

    def __init__(self, summary):
        super().__init__(summary)
        self.summary = summary


def _conf(root):
    return os.path.join(root, "conf")


def _run(cmd, input=None):
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, text=True)
    except OSError as e:
        raise Error(f"{cmd[0]}: {e.strerror}") from e
    if p.returncode != 0:
        raise Error(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-500:]}")
    return p.stdout


def _ok(cmd, **kwargs):
    """True if cmd ran and exited 0."""
    try:
        return subprocess.run(cmd, **kwargs).returncode == 0
    except OSError:
        return False


def status(root):
    """True if the instance in root is running."""
    conf = _conf(root)
    return (os.path.isfile(os.path.join(conf, "main.cf")) and
            _ok(["postfix", "-c", conf, "status"], capture_output=True))


def _port_free(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        return True
    return False


# --- start and stop ----------------------------------------------------------

def _main_cf(root, long_ids, live):
    delay, maxdelay = ("10s", "20s") if live else ("1d", "1d")
    return f"""# Written by scripts/pfsandbox for a private test instance.
compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/data
myhostname = mx.test.invalid
mydomain = test.invalid
myorigin = $myhostname
mydestination = $myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
# nothing listens on port 9: remote mail is deferred, not sent
relayhost = [127.0.0.1]:9
smtp_connect_timeout = 1s
maillog_file = {root}/maillog
maillog_file_prefixes = /var, /dev/stdout, /tmp, {root}
alias_maps =
alias_database =
# any local user is accepted; unknown ones bounce at delivery (real NDRs)
local_recipient_maps =
mail_spool_directory = {root}/mail
enable_long_queue_ids = {"yes" if long_ids else "no"}
queue_run_delay = {delay}
minimal_backoff_time = {delay}
maximal_backoff_time = {maxdelay}
bounce_queue_lifetime = 5d
maximal_queue_lifetime = 5d
"""


def _write_conf(root, long_ids, live):
    conf = _conf(root)
    for d in (conf, f"{root}/spool", f"{root}/data", f"{root}/mail"):
        os.makedirs(d, exist_ok=True)
    os.chmod(root, 0o755)  # the postfix user must reach data/ and the spool
    os.chmod(f"{root}/mail", 0o1777)
    with open("/etc/postfix/master.cf") as f:
        master = f.read()
    # No SMTP listener on port 25: mail enters through sendmail (and the
    # optional loopback smtpd).
    with open(f"{conf}/master.cf", "w") as f:
        f.write(re.sub(r"^smtp      inet", "#smtp      inet", master, flags=re.M))
    with open(f"{conf}/main.cf", "w") as f:
        f.write(_main_cf(root, long_ids, live))
    shutil.chown(f"{root}/data", "postfix")
    open(f"{root}/maillog", "a").close()
    shutil.chown(f"{root}/maillog", "postfix")


def _add_smtpd(conf, port):
    if not shutil.which("saslpasswd2"):
        raise Error("--smtpd-port needs sasl2-bin (apt-get install sasl2-bin libsasl2-modules)")
    with open(f"{conf}/master.cf", "a") as f:
        f.write(f"127.0.0.1:{port} inet n - n - - smtpd\n")
    _run(["postconf", "-c", conf, "-e", "mynetworks=", "smtpd_sasl_auth_enable=yes", "smtpd_sasl_type=cyrus",
          "smtpd_sasl_path=smtpd", "smtpd_sasl_security_options=noanonymous",
          "smtpd_relay_restrictions=permit_sasl_authenticated, reject_unauth_destination"])
    # Cyrus reads /etc/postfix/sasl/smtpd.conf and /etc/sasldb2 whatever
    # this instance's configuration says (shared by all sandboxes).
    for user in ("bob", "carol"):
        _run(["saslpasswd2", "-p", "-c", "-u", "mx.test.invalid", user], input="secret\n")
    shutil.chown("/etc/sasldb2", group="postfix")
    os.chmod("/etc/sasldb2", 0o640)
    os.makedirs("/etc/postfix/sasl", exist_ok=True)
    with open("/etc/postfix/sasl/smtpd.conf", "w") as f:
        f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n")


def _milter_port(root):
    port = 20000 + zlib.crc32(root.encode()) % 20000
    for _ in range(100):
        if _port_free(port):
            return port
        port += 1
    raise Error("no free port for the Milter")


def _add_milter(root):
    conf, binary = _conf(root), f"{root}/test_milter"
    if not _ok(["cc", "-O2", "-o", binary, f"{REPO}/tests/milter/test_milter.c", "-lmilter", "-lpthread"]):
        raise Error("cannot build the test Milter (apt-get install libmilter-dev)")
    # A TCP socket on loopback: Debian runs cleanup chrooted in the spool,
    # where a UNIX socket path under ROOT would not resolve.
    port = _milter_port(root)
    _stop_milter(root)
    with open(f"{root}/milter.log", "w") as log:
        milter = subprocess.Popen([binary, f"inet:{port}@127.0.0.1"], stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
    with open(f"{root}/milter.pid", "w") as f:
        f.write(f"{milter.pid}\n")
    for _ in range(50):
        if not _port_free(port):
            break
        time.sleep(0.1)
    else:
        with open(f"{root}/milter.log") as log:
            sys.stderr.write(log.read())
        raise Error("the test Milter did not start")
    # tempfail, not accept: a dead Milter must not let unedited mail through.
    _run(["postconf", "-c", conf, "-e", f"non_smtpd_milters=inet:127.0.0.1:{port}",
          f"smtpd_milters=inet:127.0.0.1:{port}", "milter_default_action=tempfail"])


def start(root, long_ids=False, smtpd_port=None, milter=False, live=False):
    """Builds the instance in root (see the usage above) and starts Postfix.
    If it is already running, says so and changes nothing."""
    root = os.path.abspath(root)
    if os.geteuid() != 0:
        raise Error("must run as root (Postfix's master, postsuper)")
    if not shutil.which("postfix"):
        raise Error("Postfix is not installed (apt-get install postfix)")
    if status(root):
        print(f"pfsandbox: {root} is already running", flush=True)
        return
    if smtpd_port is not None:
        if not re.fullmatch(r"[0-9]+", str(smtpd_port)):
            raise Error(f"start: bad port {smtpd_port}")
        if not _port_free(int(smtpd_port)):
            raise Error(f"start: 127.0.0.1:{smtpd_port} is already in use")
    _write_conf(root, long_ids, live)
    if smtpd_port is not None:
        _add_smtpd(_conf(root), smtpd_port)
    if milter:
        _add_milter(root)
    if not _ok(["postfix", "-c", _conf(root), "start"], capture_output=True):
        with open(f"{root}/maillog", errors="replace") as f:
            sys.stderr.write("".join(f.readlines()[-20:]))
        raise Error(f"postfix did not start (see {root}/maillog)")


def _gone(pid):
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaps a Milter this process started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _stop_milter(root):
    pidfile = f"{root}/milter.pid"
    if not os.path.exists(pidfile):
        return
    with open(pidfile) as f:
        pid = f.read().strip()
    try:
        with open(f"/proc/{int(pid)}/cmdline", "rb") as f:
            ours = f"{root}/test_milter".encode() in f.read()
    except (ValueError, OSError):
        ours = False
    # libmilter notices SIGTERM only at its next 5 s poll: then SIGKILL (it
    # keeps no state)
    with contextlib.suppress(ProcessLookupError):
        if ours:
            os.kill(int(pid), 15)
            for _ in range(10):
                if _gone(int(pid)):
                    break
                time.sleep(0.1)
            os.kill(int(pid), 9)
            _gone(int(pid))
    with contextlib.suppress(FileNotFoundError):
        os.remove(pidfile)


def stop(root):
    """Stops Postfix and the Milter of the instance in root, if they run."""
    root = os.path.abspath(root)
    if status(root):
        _ok(["postfix", "-c", _conf(root), "stop"], capture_output=True)
        for _ in range(100):
            if not status(root):
                break
            time.sleep(0.1)
    _stop_milter(root)


# --- fill ------------------------------------------------------------------------

def _submit(conf, port, j):
    """Submits job j; returns None, or what failed."""
    if j["kind"] == "sasl":
        cmd = ["swaks", "--server", f"127.0.0.1:{port}", "--local-interface", j["client"],
               "--auth", "PLAIN", "--auth-user", f"{j['user']}@mx.test.invalid", "--auth-password", "secret",
               "--from", j["sender"], "--to", ",".join(j["rcpts"]), "--helo", j["helo"],
               "--header", f"Subject: {j['subject']}", "--header", f"From: {j['frm']}",
               "--body", body(j["i"])]
        text = None
    elif j["kind"] == "dash-t":
        cmd, text = ["sendmail", "-C", conf, "-f", j["sender"], "-t"], message(j).encode()
    else:
        cmd, text = ["sendmail", "-C", conf, "-f", j["sender"], *j["rcpts"]], message(j).encode()
    try:
        p = subprocess.run(cmd, input=text, capture_output=True)
    except OSError as e:
        return (j["i"], j["kind"], f"{cmd[0]}: {e.strerror}")
    if p.returncode != 0:
        return (j["i"], j["kind"], p.stderr.decode(errors="replace")[-300:])
    return None


def queue_lines(root):
    """postqueue -j of the running instance in root: its lines."""
    return _run(["postqueue", "-c", _conf(root), "-j"]).splitlines()


def queue(root):
    """postqueue -j of the running instance in root: one dict per message."""
    return [json.loads(line) for line in queue_lines(root) if line.strip()]


def _settle(root, live):
    """Waits until incoming, active and maildrop are empty three times in a
    row (a bounce appears in incoming after the failed local delivery of its
    original); with --live, deferred mail keeps passing through active: waits
    for incoming and maildrop only."""
    busy = ("incoming", "maildrop") if live else ("incoming", "active", "maildrop")
    still = 0
    for _ in range(1200):
        if any(m["queue_name"] in busy for m in queue(root)):
            still = 0
        else:
            still += 1
            if still >= 3:
                break
        time.sleep(0.5)


def _hold_and_expire(root, todo, live):
    def key(sender, rcpts):
        return (sender or "MAILER-DAEMON", tuple(sorted(rcpts)))

    after = {key(j["sender"], j["rcpts"]): j["after"] for j in todo if j["after"]}
    held, expired_held, expired_deferred = [], [], []
    for m in queue(root):
        what = after.get(key(m["sender"], [r["address"] for r in m["recipients"]]))
        if m["queue_name"] != "deferred" or not what:
            continue
        if what.startswith("hold"):
            held.append(m["queue_id"])
        if what == "hold-expire":
            expired_held.append(m["queue_id"])
        if what == "expire" and not live:
            expired_deferred.append(m["queue_id"])
    for args, ids in ((["-h", "-"], held), (["-e", "-", "hold"], expired_held),
                      # Force-expired mail in deferred stays there (mode 0710) only because
                      # the deferred queue is scanned once a day here; "postqueue -f" would
                      # bounce it.
                      (["-e", "-", "deferred"], expired_deferred)):
        if ids:
            _run(["postsuper", "-c", _conf(root), *args], input="\n".join(ids) + "\n")


def _features(conf):
    """(smtpd port or "", Milter set, --live) as start wrote them."""
    with open(f"{conf}/master.cf") as f:
        ports = re.findall(r"^127\.0\.0\.1:([0-9]+) +inet", f.read(), flags=re.M)
    milter = _run(["postconf", "-c", conf, "-h", "non_smtpd_milters"]).strip() != ""
    live = _run(["postconf", "-c", conf, "-h", "queue_run_delay"]).strip() != "1d"
    return (ports[0] if ports else ""), milter, live


def fill(root, count=2000, seed=1):
    """Queues the corpus of `count` messages drawn with `seed` into the running
    instance in root, waits for it to settle, puts some on hold and expires
    some; returns the line "N messages in Ts: deferred X, hold Y"."""
    root = os.path.abspath(root)
    if not (isinstance(count, int) and isinstance(seed, int) and count >= 0 and seed >= 0):
        raise Error("fill: --count and --seed take numbers")
    if not status(root):
        raise Error(f"{root} is not running (pfsandbox start {root})")
    conf = _conf(root)
    port, milter, live = _features(conf)
    todo = jobs(count, seed, milter, port != "")
    t = time.time()
    with ThreadPoolExecutor(max_workers=2) as pool:
        failed = [f for f in pool.map(lambda j: _submit(conf, port, j), todo) if f]
    if failed:
        print(f"pfsandbox: {len(failed)} submissions failed, first: {failed[0]}", file=sys.stderr)
    _settle(root, live)
    _hold_and_expire(root, todo, live)
    counts = {}
    for m in queue(root):
        counts[m["queue_name"]] = counts.get(m["queue_name"], 0) + 1
    summary = (f"{sum(counts.values())} messages in {time.time() - t:.0f}s: " +
               ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if len(failed) > count // 100:
        raise FillError(summary)
    return summary


def corpus(root, smtpd_port=2525, count=2000, seed=1):
    """start(root, milter=True, smtpd_port=smtpd_port), then fill."""
    start(root, milter=True, smtpd_port=smtpd_port)
    return fill(root, count, seed)


# --- the command line ----------------------------------------------------------

def _usage(status_):
    print(__doc__[:__doc__.index("\nAs a Python module")], end="")
    return status_


def _options(cmd, args, flags, values):
    """Reads args as the command's options: flags take no value, values one."""
    got = {}
    while args:
        a = args.pop(0)
        if a in flags:
            got[a] = True
        elif a in values:
            if not args:
                raise Error(f"{cmd}: {a} needs {values[a]}")
            got[a] = args.pop(0)
        else:
            raise Error(f"{cmd}: unknown option {a}")
    return got


def _numbers(cmd, got):
    for name in ("--count", "--seed"):
        if name in got and not re.fullmatch(r"[0-9]+", got[name]):
            raise Error(f"{cmd}: --count and --seed take numbers")
    return int(got.get("--count", 2000)), int(got.get("--seed", 1))


def _command(cmd, root, args):
    if cmd == "start":
        o = _options(cmd, args, ("--long-ids", "--milter", "--live"), {"--smtpd-port": "a port"})
        start(root, long_ids="--long-ids" in o, smtpd_port=o.get("--smtpd-port"), milter="--milter" in o,
              live="--live" in o)
    elif cmd in ("stop", "status"):  # what follows ROOT is ignored
        if cmd == "stop":
            stop(root)
        elif status(root):
            print(f"pfsandbox: {root} is running")
        else:
            print(f"pfsandbox: {root} is stopped")
            return 1
    else:
        values = {"--count": "a number", "--seed": "a number"}
        if cmd == "corpus":
            values["--smtpd-port"] = "a port"
        o = _options(cmd, args, (), values)
        count, seed = _numbers(cmd, o)
        if cmd == "fill":
            print(fill(root, count, seed))
        else:
            print(corpus(root, o.get("--smtpd-port", 2525), count, seed))
    return 0


def main(argv):
    """scripts/pfsandbox: returns the exit status (0 done, 1 failed or not
    running, 2 usage)."""
    if argv[:1] in (["-h"], ["--help"], ["help"]):
        return _usage(0)
    if len(argv) < 2 or argv[1].startswith("-") or argv[0] not in ("start", "fill", "stop", "status", "corpus"):
        return _usage(2)
    cmd, root, args = argv[0], os.path.abspath(argv[1]), argv[2:]
    try:
        os.makedirs(root, exist_ok=True)
        return _command(cmd, root, args)
    except FillError as e:
        print(e.summary)
        return 1
    except Error as e:
        print(f"pfsandbox: {e}", file=sys.stderr)
        return 1
