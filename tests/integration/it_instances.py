#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--all-instances runs over every instance postmulti -l lists (issue 7).

postmulti only reads the default configuration directory, /etc/postfix, so
this test writes /etc/postfix/main.cf (a default instance whose spool is
private) with one secondary instance, and removes it afterwards. It skips
when /etc/postfix/main.cf already exists: a machine with a configured
Postfix is not touched. Without postmulti set up, qpurge says so (exit 2).
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, check, finish, run  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "queue")
MAIN_CF = "/etc/postfix/main.cf"


def put(spool, queue, case, qid):
    d = os.path.join(spool, queue, qid[0]) if queue == "deferred" else os.path.join(spool, queue)
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(DATA, case + ".qf"), os.path.join(d, qid))
    os.chmod(os.path.join(d, qid), 0o700)


def main():
    if os.geteuid() != 0 or not os.access("/usr/sbin/postmulti", os.X_OK):
        print("SKIP: needs root and postmulti")
        sys.exit(77)
    if os.path.exists(MAIN_CF):
        print(f"SKIP: {MAIN_CF} exists; this test only runs where Postfix has no system configuration")
        sys.exit(77)
    root = tempfile.mkdtemp(prefix="qpurge-instances-")
    try:
        p = run([QPURGE, "--all-instances", "--all", "--dry-run"], check_rc=False)
        check(p.returncode == 2 and "postmulti" in p.stderr, f"no postmulti set up: a clear refusal ({p.stderr.strip()})")
        a, b = os.path.join(root, "a"), os.path.join(root, "b")
        os.makedirs(os.path.join(b, "conf"))
        put(os.path.join(a, "spool"), "deferred", "plain", "10000A1")
        put(os.path.join(b, "spool"), "deferred", "null_sender", "20000A2")
        put(os.path.join(b, "spool"), "hold", "hold", "30000A3")
        with open(MAIN_CF, "w") as f:
            f.write(f"compatibility_level = 3.6\nqueue_directory = {a}/spool\ndata_directory = {a}/data\n"
                    f"multi_instance_enable = yes\nmulti_instance_directories = {b}/conf\n")
        with open(os.path.join(b, "conf", "main.cf"), "w") as f:
            f.write(f"compatibility_level = 3.6\nqueue_directory = {b}/spool\ndata_directory = {b}/data\n"
                    "multi_instance_name = postfix-b\nmulti_instance_group = test\nmulti_instance_enable = yes\n")
        shutil.copy("/etc/postfix/master.cf", os.path.join(b, "conf", "master.cf"))
        p = run([QPURGE, "--all-instances", "--all", "--dry-run"], check_rc=False)
        lines = p.stdout.splitlines()
        print(p.stdout)
        check(p.returncode == 0, f"exit 0 ({p.returncode}: {p.stderr.strip()})")
        check(any(l.startswith("[default] 10000A1 ") for l in lines), "the default instance's message, named")
        check(any(l.startswith("[postfix-b] 20000A2 ") for l in lines), "the second instance's messages, named")
        check(any(l.startswith("[postfix-b] 30000A3 ") for l in lines), "... from every queue")
        check(any(l.startswith("[default] dry run: ") for l in lines) and
              any(l.startswith("[postfix-b] dry run: ") for l in lines), "a summary per instance, named")
        p = run([QPURGE, "--all-instances", "--sender", "MAILER-DAEMON", "--dry-run", "--format", "json"],
                check_rc=False)
        objs = [json.loads(l) for l in p.stdout.splitlines()]
        check([(o["instance"], o["queue_id"]) for o in objs] == [("postfix-b", "20000A2")],
              "JSON names the instance of each message")
    finally:
        if os.path.exists(MAIN_CF):
            os.unlink(MAIN_CF)
        shutil.rmtree(root, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
