#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Long work is visible on a terminal and invisible elsewhere (issue 7).

Runs qpurge on a hand-made spool under a pseudo-terminal: stderr carries a
progress line redrawn in place (carriage return + erase line) and erased
when done; with stderr not a terminal, or with --quiet, there is none.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, check, finish, on_terminal  # noqa: E402
from it_hostile import put, queue_file  # noqa: E402


def main():
    root = tempfile.mkdtemp(prefix="qpurge-tty-")
    try:
        spool = os.path.join(root, "spool")
        for i in range(300):
            put(spool, "%05X%X" % (i * 3001 % 1000000, 0x10000 + i), queue_file(b"s@x.example", [b"r%d@example.com" % i]))
        args = [QPURGE, "--queue-dir", spool, "--all", "--dry-run", "--format", "ids"]
        out, rc = on_terminal(args)
        check(rc == 0, f"exit 0 under a terminal ({rc})")
        check(b"\r\x1b[Kscanning: " in out, "a progress line is drawn on a terminal")
        last = out.rfind(b"scanning: ")
        check(b"\r\x1b[K" in out[last:], "the progress line is erased when the scan is done")
        out, rc = on_terminal(args + ["--quiet"])
        check(b"scanning" not in out, "--quiet: no progress line")
        p = subprocess.run(args, capture_output=True)
        check(b"scanning" not in p.stderr and b"\x1b" not in p.stderr, "stderr not a terminal: no progress line")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
