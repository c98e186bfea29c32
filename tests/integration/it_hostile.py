#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile input on the command's own surface (issue 8): a spool of
hand-made queue files read with --queue-dir, checking what reaches the
terminal and what JSON carries.

- control characters and bytes that are not UTF-8 in addresses: escaped in
  text output (never raw), exact in JSON (surrogateescape, see README);
- a FIFO, a symlink and a directory where queue files should be: reported,
  never opened blocking (the run finishes), never followed;
- a zero-length file, a truncated file, a record over the length limit, a
  name that is not a queue ID: skipped or ignored and reported; exit 3;
- domains that are not ASCII without the IDN module (issue 23): a typed one
  is a usage error naming the module (exit 2); a stored one makes its
  message undecided, never selected (exit 3); with the module, the U-label
  and A-label forms of one domain are the same domain.
Needs no Postfix: the spool is written here, record by record.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, check, finish  # noqa: E402


def rec(t, payload):
    out = bytearray(t.encode())
    n = len(payload)
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            break
    return bytes(out) + payload


def queue_file(sender, rcpts, arrival=1795344810):
    def size(data_size, data_offset, n):
        return ("%15d %15d %15d %15d %15d %15d" % (data_size, data_offset, n, 0, data_size, 0)).encode()
    head = rec("C", size(0, 0, 0))
    env = rec("T", b"%d 0" % arrival) + rec("A", b"create_time=%d" % arrival) + rec("S", sender)
    for r in rcpts:
        env += rec("O", r) + rec("R", r)
    env += rec("M", b"")
    data_offset = len(head) + len(env)
    content = rec("N", b"Subject: x") + rec("N", b"") + rec("N", b"body")
    tail = rec("X", b"") + rec("E", b"")
    head = rec("C", size(len(content), data_offset, len(rcpts)))
    return head + env + content + tail


def put(spool, name, data, mode=0o700):
    d = os.path.join(spool, "deferred", name[0])
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def main():
    if not os.access(QPURGE, os.X_OK):
        print(f"FAIL: no qpurge at {QPURGE}")
        sys.exit(1)
    root = tempfile.mkdtemp(prefix="qpurge-hostile-")
    try:
        spool = os.path.join(root, "spool")
        evil_sender = b"\x1b]0;pwned\x07\x1b[2Jevil@x.example"
        bad_utf8 = b"caf\xe9\xff@example.com"
        put(spool, "10000A1", queue_file(evil_sender, [b"victim@example.com"]))
        put(spool, "20000A2", queue_file(b"ok@x.example", [bad_utf8]))
        put(spool, "30000A3", queue_file(b"fine@x.example", [b"a@example.com"]))
        put(spool, "40000A4", b"")
        put(spool, "50000A5", queue_file(b"t@x.example", [b"t@example.com"])[:60])
        put(spool, "60000A6", rec("T", b"1 0") + rec("S", b"x" * (2 << 20)))
        put(spool, "not-a-queue-id", queue_file(b"hidden@x.example", [b"h@example.com"]))
        d = os.path.join(spool, "deferred", "7")
        os.makedirs(d, exist_ok=True)
        os.mkfifo(os.path.join(d, "70000A7"))
        os.symlink("/etc/shadow", os.path.join(d, "70000A8"))
        os.mkdir(os.path.join(d, "70000A9"))

        base = [QPURGE, "--queue-dir", spool, "--postconf", "/bin/false", "--all", "--dry-run"]
        p = subprocess.run(base, capture_output=True, timeout=30)
        text = p.stdout + p.stderr
        raw = [c for c in text if c < 0x20 and c not in (0x0A,)]
        check(not raw, f"text output carries no raw control characters ({bytes(raw)!r})")
        # A local part with control characters is quoted, as postqueue -j and mailq print it.
        check(b'"\\x1b]0;pwned\\x07\\x1b[2Jevil"@x.example' in p.stdout, "control characters are shown escaped")
        check(b"caf\\xe9\\xff@example.com" in p.stdout, "bytes that are not UTF-8 are shown escaped")
        check(p.returncode == 3, f"unreadable files make the exit status 3 (got {p.returncode})")
        err = p.stderr.decode(errors="replace")
        for name, what in (("40000A4", "empty file"), ("50000A5", "end of file"), ("60000A6", "exceeds limit"),
                           ("70000A7", "FIFO"), ("70000A8", "symbolic link"), ("70000A9", "directory")):
            check(name in err and what in err, f"{name} reported: {what}")
        check(b"hidden@x.example" not in p.stdout, "a file whose name is not a queue ID is ignored")
        check(b"scanned 3 messages" in p.stdout and b"unreadable 6" in p.stdout,
              "summary: 3 messages, 6 unreadable or not regular")

        p = subprocess.run(base + ["--format", "json"], capture_output=True, timeout=30)
        msgs = {}
        for line in p.stdout.decode("ascii").splitlines():  # JSON output is pure ASCII here
            m = json.loads(line)
            msgs[m["queue_id"]] = m
        sender = msgs["10000A1"]["sender"].encode("utf-8", "surrogateescape")
        check(sender == b'"' + evil_sender.replace(b"@", b'"@'), "JSON carries the control characters exactly (quoted as postqueue -j)")
        rcpt = msgs["20000A2"]["recipients"][0]["address"].encode("utf-8", "surrogateescape")
        check(rcpt == bad_utf8, "JSON carries bytes that are not UTF-8 exactly (surrogateescape)")
        # Matching still works on exact bytes, case-insensitively on ASCII.
        p = subprocess.run([QPURGE, "--queue-dir", spool, "--postconf", "/bin/false", "--recipient-domain",
                            "EXAMPLE.com", "--dry-run", "--format", "ids"], capture_output=True, timeout=30)
        check(sorted(p.stdout.split()) == [b"10000A1", b"20000A2", b"30000A3"], "domain match on hostile files")
        idn_module(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    finish()


def idn_module(root):
    spool = os.path.join(root, "idn-spool")
    put(spool, "11000B1", queue_file(b"s@x.example", ["a@b\u00fccher.example".encode()]))
    put(spool, "12000B2", queue_file(b"s@x.example", [b"b@xn--bcher-kva.example"]))
    put(spool, "13000B3", queue_file(b"s@x.example", [b"c@example.com"]))
    nomod = os.path.join(root, "no-modules")
    os.mkdir(nomod)
    base = [QPURGE, "--queue-dir", spool, "--postconf", "/bin/false", "--dry-run", "--format", "ids"]

    def run(modules, *args):
        env = dict(os.environ, QPURGE_MODULE_DIR=modules)
        return subprocess.run(base + list(args), capture_output=True, text=True, timeout=30, env=env)

    p = run(nomod, "--recipient-domain", "example.com")
    check(p.stdout.split() == ["13000B3"] and p.returncode == 3,
          f"no IDN module: the stored U-label domain is undecided, exit 3 ({p.stdout.split()}, {p.returncode})")
    check("qpurge_idn.so" in p.stderr, f"no IDN module: the warning names it ({p.stderr.strip()[-300:]})")
    p = run(nomod, "--recipient-domain", "b\u00fccher.example")
    check(p.returncode == 2 and p.stdout == "" and "qpurge_idn.so" in p.stderr,
          f"no IDN module: a typed U-label domain is a usage error naming it ({p.returncode}: {p.stderr.strip()})")
    modules = os.environ.get("QPURGE_MODULE_DIR", "")
    if modules:
        p = run(modules, "--recipient-domain", "xn--bcher-kva.example")
        check(sorted(p.stdout.split()) == ["11000B1", "12000B2"] and p.returncode == 0,
              f"with the IDN module: both forms of one domain match ({p.stdout.split()}, {p.returncode})")
        p = run(modules, "--recipient-domain", "B\u00dcCHER.example")
        check(sorted(p.stdout.split()) == ["11000B1", "12000B2"] and p.returncode == 0,
              f"with the IDN module: a typed U-label matches both forms ({p.stdout.split()}, {p.returncode})")


if __name__ == "__main__":
    main()
