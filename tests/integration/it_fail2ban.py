#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The fail2ban action (packaging/fail2ban/action.d/qpurge.conf, README
"fail2ban") with the real fail2ban, on a real private Postfix instance.

The instance's smtpd trusts the loopback for XCLIENT, so `swaks
--xclient-addr A` queues mail as if it came from A; remote mail stays
deferred. The expectation for every step is what was submitted from which
address and where postqueue -j says it is, never qpurge's output.

A private fail2ban server (its own configuration directory, socket, pid
file, database and log under a temporary directory; no firewall action)
runs jails on a test log whose only action is qpurge.conf, pointed at the
build's qpurge and the private instance:

  1  `set qpurge-hold banip 203.0.113.7`: exactly that address's mail is on
     hold; everything else is still deferred under the same IDs; the audit
     log has the run (intent and result, with those IDs)
  2  a ban for an address with no queued mail (qpurge exits 1) is no
     failure: fail2ban logs no error for it
  3  failure lines in the jail's log reaching maxretry ban 203.0.113.8: its
     mail goes on hold too
  4  `unbanip 203.0.113.7`: nothing is released
  5  a jail whose action cannot work (a Postfix configuration directory that
     does not exist: qpurge exits 2; a mode that does not exist) is reported
     as a failure in fail2ban's log, and nothing changes
  6  fail2ban stopped, 203.0.113.8's mail released by hand, fail2ban
     started again: the ban is restored from its database, and qpurge is
     not run again (the mail stays released)
  7  mode=archive: `banip 198.51.100.77` deletes exactly its mail, and the
     archive has one run directory with a copy of each message and a
     manifest naming them; the audit log has the run
  8  a hostile <ip> (what a custom failregex with usedns = raw lets
     through: shell syntax, a second option, a command substitution), both
     banned with `banip` and found in the jail's log: the action refuses it
     (exit 2, a failure in fail2ban's log naming the value), no command in
     it ever runs, qpurge is not run, and nothing changes

Exit status: 0 pass, 1 fail, 77 skip (not root, no Postfix, swaks or
fail2ban, or fail2ban cannot run here).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, REPO, Instance, check, failures, finish, run, skip_unless_possible, wait_for  # noqa: E402

ACTION = os.path.join(REPO, "packaging", "fail2ban", "action.d", "qpurge.conf")
BANNED = "203.0.113.7"       # banned with fail2ban-client banip
LOG_BANNED = "203.0.113.8"   # banned by failures in the jail's log
ARCHIVED = "198.51.100.77"   # banned in the archive-mode jail
OTHER = "198.51.100.9"       # never banned
NO_MAIL = "192.0.2.200"      # banned, but sent nothing
BROKEN = "192.0.2.201"       # banned in the jail whose action cannot work


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def fail2ban_runs():
    """Skips unless fail2ban is installed and its Python code starts."""
    for tool in ("fail2ban-client", "fail2ban-server", "swaks"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (scripts/install-deps installs it)")
    p = subprocess.run(["fail2ban-server", "--version"], capture_output=True, text=True)
    if p.returncode != 0:
        skip(f"fail2ban-server cannot run here: {(p.stderr or p.stdout).strip()[-300:]}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the queue

def prepare(inst):
    """Lets 127.0.0.1 speak for other clients (XCLIENT) and those relay."""
    run(["postconf", "-c", inst.conf, "-e",
         "mynetworks = 127.0.0.0/8 203.0.113.0/24 198.51.100.0/24 192.0.2.0/24",
         "smtpd_authorized_xclient_hosts = 127.0.0.1",
         "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination"])
    run(["postfix", "-c", inst.conf, "reload"])
    time.sleep(1)


def submit(port, addr, n):
    """Queues n messages from client address addr; returns their queue IDs."""
    ids = []
    for i in range(n):
        p = run(["swaks", "--server", f"127.0.0.1:{port}", "--xclient-addr", addr,
                 "--from", f"s{i}@{addr}.sender.example", "--to", f"r{i}@far.example",
                 "--helo", "client.test.invalid", "--header", f"Subject: from {addr} #{i}"])
        m = re.search(r"queued as (\w+)", p.stdout)
        if not m:
            raise RuntimeError(f"swaks from {addr}: no queue ID in {p.stdout[-500:]}")
        ids.append(m.group(1))
    return ids


def where(inst):
    """queue ID -> queue name, from postqueue -j."""
    return {m["queue_id"]: m["queue_name"] for m in inst.postqueue()}


# ---------------------------------------------------------------- fail2ban

class Fail2ban:
    """A private fail2ban server: configuration, socket, pid file, database
    and log all under one temporary directory."""

    def __init__(self, inst):
        self.dir = tempfile.mkdtemp(prefix="qpurge-it-f2b-", dir="/tmp")
        self.log = os.path.join(self.dir, "fail2ban.log")
        self.pidfile = os.path.join(self.dir, "fail2ban.pid")
        self.authlog = os.path.join(self.dir, "auth.log")
        self.archive = os.path.join(self.dir, "archive")
        self.audit = os.path.join(inst.root, "audit.jsonl")
        self.write_config(inst)

    def write_config(self, inst):
        os.makedirs(os.path.join(self.dir, "action.d"))
        os.makedirs(os.path.join(self.dir, "filter.d"))
        shutil.copy(ACTION, os.path.join(self.dir, "action.d", "qpurge.conf"))
        d = self.dir
        write(os.path.join(d, "fail2ban.conf"), f"""[Definition]
loglevel = DEBUG
logtarget = {self.log}
syslogsocket = auto
socket = {d}/fail2ban.sock
pidfile = {self.pidfile}
dbfile = {d}/fail2ban.sqlite3
dbpurgeage = 1d
allowipv6 = auto
""")
        write(os.path.join(d, "filter.d", "qpurge-test.conf"), """[Definition]
failregex = ^auth failure from <HOST>$
datepattern = {NONE}
""")
        common = f'qpurge="{QPURGE}", postfixdir="{inst.conf}", auditlog="{self.audit}"'
        write(self.authlog, "")
        write(os.path.join(d, "jail.conf"), f"""[DEFAULT]
backend = polling
filter = qpurge-test
findtime = 1h
bantime = 1h
maxretry = 3

[qpurge-hold]
enabled = true
logpath = {self.authlog}
action = qpurge[{common}]

[qpurge-archive]
enabled = true
logpath = {d}/archive.log
action = qpurge[{common}, mode=archive, archivedir="{self.archive}"]

[qpurge-broken]
enabled = true
logpath = {d}/broken.log
action = qpurge[qpurge="{QPURGE}", postfixdir="{d}/no-such-postfix", auditlog="{self.audit}"]

[qpurge-badmode]
enabled = true
logpath = {d}/broken.log
action = qpurge[{common}, mode=purge]

[qpurge-raw]
enabled = true
logpath = {d}/raw.log
filter = qpurge-raw
usedns = raw
maxretry = 1
action = qpurge[{common}]
""")
        write(os.path.join(d, "filter.d", "qpurge-raw.conf"), """[Definition]
failregex = ^raw failure from <F-ID>.+</F-ID>$
datepattern = {NONE}
""")
        write(os.path.join(d, "raw.log"), "")
        write(os.path.join(d, "archive.log"), "")
        write(os.path.join(d, "broken.log"), "")

    def client(self, *args, check_rc=True):
        return run(["fail2ban-client", "-c", self.dir, *args], check_rc=check_rc, timeout=60)

    def start(self):
        # The server daemonizes: its output goes to a file, never to a pipe
        # this test would wait on.
        with open(os.path.join(self.dir, "start.out"), "w") as out:
            rc = subprocess.run(["fail2ban-client", "-c", self.dir, "-x", "start"], stdout=out,
                                stderr=subprocess.STDOUT, timeout=60).returncode
        if rc != 0:
            print(read(os.path.join(self.dir, "start.out")), read(self.log)[-3000:])
            skip(f"fail2ban-server did not start here (fail2ban-client start exited {rc})")
        if not wait_for(lambda: self.client("ping", check_rc=False).returncode == 0, "fail2ban ping"):
            skip("fail2ban-server started but does not answer")

    def stop(self):
        self.client("stop", check_rc=False)
        try:
            pid = int(read(self.pidfile).strip())
            if wait_for(lambda: not alive(pid), "fail2ban-server to exit", timeout=10) is False:
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass

    def ban(self, jail, ip):
        return self.client("set", jail, "banip", ip)

    def log_text(self):
        return read(self.log)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def audit_records(path):
    recs = []
    for line in read(path).splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            pass
    return recs


# ---------------------------------------------------------------- checks

def check_hold_ban(inst, f2b, mail, start):
    f2b.ban("qpurge-hold", BANNED)
    want = set(mail[BANNED])
    wait_for(lambda: all(where(inst).get(i) == "hold" for i in want), f"{BANNED}'s mail on hold")
    now = where(inst)
    check(all(now.get(i) == "hold" for i in want), f"1: banip {BANNED}: its {len(want)} messages are on hold")
    rest = {i: q for i, q in start.items() if i not in want}
    check({i: now.get(i) for i in rest} == rest, f"1: the other {len(rest)} messages are where they were, same IDs")
    intent, result = run_records(f2b.audit, BANNED)
    check(intent.get("action") == "hold" and set(intent.get("ids", [])) == {f"deferred/{i}" for i in want},
          f"1: the audit log has the run's intent: hold, those IDs ({intent.get('action')}, {intent.get('ids')})")
    done = {r.get("queue_id"): r.get("result") for r in result.get("results", [])}
    check(done == {i: "done" for i in want}, f"1: the audit log has the run's result: each ID done ({done})")


def run_records(path, ip):
    """The last intent and result records of the run for --client-address ip."""
    found = {}
    for r in audit_records(path):
        argv = r.get("argv", [])
        if any(a == "--client-address" and b == ip for a, b in zip(argv, argv[1:])):
            found[r.get("event")] = r
    return found.get("intent", {}), found.get("result", {})


def check_no_mail_ban(f2b):
    f2b.ban("qpurge-hold", NO_MAIL)
    # At DEBUG, fail2ban logs a successful command's output; qpurge says
    # nothing matched on stderr.
    seen = wait_for(lambda: re.search(r"-- std(out|err): .*nothing to hold", f2b.log_text()), "qpurge's output for the empty ban")
    errors = [l for l in f2b.log_text().splitlines() if " ERROR " in l]
    check(seen and not errors, f"2: banip {NO_MAIL} (no mail, qpurge exit 1): no error in fail2ban's log ({errors[:3]})")


def check_log_ban(inst, f2b, mail):
    with open(f2b.authlog, "a") as f:
        for _ in range(3):
            f.write(f"auth failure from {LOG_BANNED}\n")
    want = set(mail[LOG_BANNED])
    ok = wait_for(lambda: all(where(inst).get(i) == "hold" for i in want), f"{LOG_BANNED}'s mail on hold", timeout=60)
    check(ok, f"3: three failures in the log ban {LOG_BANNED}: its {len(want)} messages are on hold")
    banned = f2b.client("status", "qpurge-hold").stdout
    check(LOG_BANNED in banned, f"3: fail2ban lists {LOG_BANNED} as banned")


def check_unban(inst, f2b, mail):
    f2b.client("set", "qpurge-hold", "unbanip", BANNED)
    wait_for(lambda: f"Unban {BANNED}" in f2b.log_text(), "the unban in fail2ban's log")
    time.sleep(2)
    now = where(inst)
    check(f"Unban {BANNED}" in f2b.log_text() and all(now.get(i) == "hold" for i in mail[BANNED]),
          f"4: unbanip {BANNED}: its mail is still on hold")


def check_broken(inst, f2b):
    before = where(inst)
    f2b.ban("qpurge-broken", BROKEN)
    pat = re.compile(r"ERROR .*returned 2")
    seen = wait_for(lambda: pat.search(f2b.log_text()), "the failure in fail2ban's log")
    stderr = [l for l in f2b.log_text().splitlines() if "ERROR" in l and "stderr" in l]
    check(seen and stderr, f"5: qpurge's exit 2 is a failure in fail2ban's log, with its message ({stderr[:1]})")
    f2b.ban("qpurge-badmode", BROKEN)
    seen = wait_for(lambda: "mode must be hold or archive, not 'purge'" in f2b.log_text(), "the bad mode in the log")
    check(seen and len(pat.findall(f2b.log_text())) >= 2, "5: mode=purge is refused (exit 2), logged as a failure")
    check(where(inst) == before, "5: nothing changed")


def check_hostile_ip(inst, f2b):
    """A ban whose <ip> is no address: refused by the action, nothing run.

    Through `banip` (fail2ban itself refuses a value with a "/" it cannot
    read as a prefix, so these have none) and through a jail whose
    failregex takes anything (<F-ID>, usedns = raw). A command that ran
    would leave PWNED behind or print uid= into fail2ban's log."""
    before = where(inst)
    pwned = os.path.join(f2b.dir, "PWNED")
    banned = ["198.51.100.9 --all", "$(id>&2)", "`id>&2`;id>&2"]
    logged = [f"x;touch {pwned}", f"$(touch {pwned})", f"'; touch {pwned}; '", "198.51.100.9\" --all \""]
    for v in banned:
        f2b.client("set", "qpurge-hold", "banip", v, check_rc=False)
    with open(os.path.join(f2b.dir, "raw.log"), "a") as f:
        for v in logged:
            f.write(f"raw failure from {v}\n")

    def refusals():
        return [l for l in f2b.log_text().splitlines()
                if "-- stderr:" in l and "the banned address is not an IP address or CIDR block" in l]

    wait_for(lambda: all(any(v in l for l in refusals()) for v in banned + logged), "every refusal", timeout=60)
    lines = refusals()
    for v in banned + logged:
        check(any(f"CIDR block: '{v}'; nothing changed" in l.replace("\\'", "'") for l in lines),
              f"8: <ip> {v!r}: refused by the action, named in fail2ban's log")
    check(all(" ERROR " in l for l in lines), "8: each refusal is a failure in fail2ban's log")
    time.sleep(2)
    check(not os.path.exists(pwned) and "uid=" not in f2b.log_text(), "8: no command in a hostile <ip> ran")
    check(where(inst) == before, "8: nothing changed in the queue")
    known = {BANNED, LOG_BANNED, ARCHIVED, NO_MAIL, BROKEN}
    runs = [r["argv"] for r in audit_records(f2b.audit)
            if any(a == "--client-address" and b not in known for a, b in zip(r.get("argv", []), r.get("argv", [])[1:]))]
    check(not runs, f"8: qpurge never ran for them ({runs[:2]})")


def check_restart(inst, f2b, mail):
    """A ban restored from fail2ban's database does not run qpurge again."""
    f2b.stop()
    inst.postsuper("-H", "-", input="".join(i + "\n" for i in mail[LOG_BANNED]))
    before = where(inst)
    f2b.start()
    restored = wait_for(lambda: f"Restore Ban {LOG_BANNED}" in f2b.log_text(), "the restored ban")
    time.sleep(3)
    check(restored and where(inst) == before and all(before[i] == "deferred" for i in mail[LOG_BANNED]),
          f"6: fail2ban restarted restores the ban of {LOG_BANNED}; its mail, released meanwhile, stays released")


def check_archive(inst, f2b, mail, start):
    f2b.ban("qpurge-archive", ARCHIVED)
    want = set(mail[ARCHIVED])
    wait_for(lambda: not (want & set(where(inst))), f"{ARCHIVED}'s mail gone")
    now = where(inst)
    check(not (want & set(now)), f"7: banip {ARCHIVED} in mode=archive: its {len(want)} messages are deleted")
    others = set(mail[OTHER]) | set(mail["sendmail"])
    check(all(now.get(i) == start[i] for i in others), "7: mail from other addresses is where it was")
    runs = sorted(os.listdir(f2b.archive)) if os.path.isdir(f2b.archive) else []
    check(len(runs) == 1, f"7: one run directory in the archive ({runs})")
    if not runs:
        return
    rundir = os.path.join(f2b.archive, runs[0])
    files = {n for n in os.listdir(rundir) if n != "manifest.jsonl" and not n.endswith((".defer", ".bounce"))}
    check(files == want, f"7: the run directory has a copy of each deleted message ({sorted(files)})")
    recs = audit_records(os.path.join(rundir, "manifest.jsonl"))
    listed = {r.get("queue_id") for r in recs if r.get("record") == "message"}
    check(listed == want, "7: the manifest names each of them")
    intent, result = run_records(f2b.audit, ARCHIVED)
    check(intent.get("action") == "delete" and intent.get("archive") == rundir and result.get("archive") == rundir,
          f"7: the audit log has the run: delete, naming the run directory ({intent.get('action')}, {intent.get('archive')})")


def main():
    skip_unless_possible()
    fail2ban_runs()
    port = str(free_port())
    with Instance("fail2ban", smtpd_port=port) as inst:
        prepare(inst)
        mail = {a: submit(port, a, n) for a, n in ((BANNED, 3), (LOG_BANNED, 2), (ARCHIVED, 2), (OTHER, 3))}
        run(["sendmail", "-C", inst.conf, "-f", "local@mx.test.invalid", "x@far.example"], input="Subject: local\n\nx\n")
        inst.settle()
        time.sleep(1)
        inst.settle()
        start = where(inst)
        mail["sendmail"] = [i for i in start if not any(i in v for v in mail.values())]
        sent = {i for ids in mail.values() for i in ids}
        check(len(sent) == 11 and set(start) == sent and set(start.values()) == {"deferred"},
              f"the 11 messages submitted are all deferred ({len(start)} queued, in {sorted(set(start.values()))})")
        p = inst.qpurge("--client-address", BANNED, "--dry-run", "--format", "ids")
        check(set(p.stdout.split()) == set(mail[BANNED]), "cross-check: qpurge's dry run selects what was sent from it")

        f2b = Fail2ban(inst)
        completed = False
        try:
            f2b.start()
            check_hold_ban(inst, f2b, mail, start)
            check_no_mail_ban(f2b)
            check_log_ban(inst, f2b, mail)
            check_unban(inst, f2b, mail)
            check_broken(inst, f2b)
            check_hostile_ip(inst, f2b)
            check_restart(inst, f2b, mail)
            check_archive(inst, f2b, mail, start)
            completed = True
        finally:
            f2b.stop()
            if not completed or failures or os.environ.get("QPURGE_KEEP"):
                print(f"kept {f2b.dir}; fail2ban log tail:\n{f2b.log_text()[-4000:]}")
            else:
                shutil.rmtree(f2b.dir, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
