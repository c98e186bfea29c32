#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One acting run per instance, and --rate, on a real instance (issue 15).

A purge paced with --rate holds its instance's run lock while the real
postsuper deletes; meanwhile a second acting purge refuses at once (exit 2,
naming the first's PID and command line, nothing changed), a dry run works,
and a purge with --wait waits, then plans afresh and acts once the first is
done. --rate 5 on 20 messages takes about 4 s of wall time.

The lock is the queue directory's, not a path's (issue 19): with the spool
bind-mounted elsewhere (mount --bind, undone in a finally), a second acting
run through the other path is refused while the first holds the lock, naming
the path the first came by; once the first is done, the same run through the
bind mount acts.
"""
import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, Instance, check, finish, on_terminal, run, skip_unless_possible  # noqa: E402


def enqueue(inst, tag, count):
    """`count` messages from tag@lock.example, left deferred; their IDs."""
    for n in range(count):
        run(["sendmail", "-C", inst.conf, "-f", f"{tag}@lock.example", f"{tag}{n}@far.example"],
            input=f"Subject: {tag} {n}\n\nlock test\n")
    time.sleep(1)
    inst.settle()
    return {m["queue_id"] for m in inst.postqueue() if m["sender"] == f"{tag}@lock.example"}


def start(inst, env, *args):
    cmd = [QPURGE, "-c", inst.conf, "--audit-log", os.path.join(inst.root, "audit.jsonl"), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_for_holder(lock_dir, pid, timeout=15):
    """True once a lock file in lock_dir names `pid` as its holder."""
    end = time.time() + timeout
    while time.time() < end:
        for path in glob.glob(os.path.join(lock_dir, "*.lock")):
            with open(path) as f:
                if f.read().startswith(f"{pid}\n"):
                    return True
        time.sleep(0.05)
    return False


def done_ids(stdout):
    return {r["queue_id"] for r in map(json.loads, stdout.splitlines()) if r.get("result") == "done"}


def concurrent_runs(inst, env, lock_dir):
    a, b, c = enqueue(inst, "a", 10), enqueue(inst, "b", 5), enqueue(inst, "c", 5)
    before = inst.ids()
    check(len(a) == 10 and len(b) == 5 and len(c) == 5, "10 + 5 + 5 messages queued")
    first = start(inst, env, "--sender", "a@lock.example", "--yes", "--rate", "2", "--format", "json")
    check(wait_for_holder(lock_dir, first.pid), f"the first purge (PID {first.pid}) holds the lock")
    second = inst.qpurge("--sender", "c@lock.example", "--yes", env=env)
    check(second.returncode == 2, f"a second acting purge meanwhile: exit 2 ({second.returncode})")
    check(f"PID {first.pid}: " in second.stderr and "--rate 2" in second.stderr and "nothing changed" in second.stderr,
          f"the refusal names the holder's PID and command line ({second.stderr.strip()[:300]})")
    dry = inst.qpurge("--sender", "c@lock.example", "--dry-run", "--format", "ids", env=env)
    check(dry.returncode == 0 and set(dry.stdout.split()) == c, "a dry run meanwhile works")
    # Started while the first acts, it plans only after the first is done: a's messages are gone by then.
    waiting = start(inst, env, "--sender", "a@lock.example", "--sender", "b@lock.example", "--yes", "--wait", "60",
                    "--format", "json")
    time.sleep(1)
    check(waiting.poll() is None and first.poll() is None, "--wait waits while the first purge acts")
    out, err = first.communicate(timeout=120)
    first_done = time.time()
    after_first = inst.ids()
    check(first.returncode == 0 and done_ids(out) == a, f"the first purge removed its 10 ({err.strip()[-200:]})")
    check(after_first in (before - a, before - a - b), "the queue is as the first purge alone leaves it")
    wout, werr = waiting.communicate(timeout=120)
    check(waiting.returncode == 0, f"--wait: acted after the first was done, exit 0 ({werr.strip()[-300:]})")
    check(f"waiting up to 60 s for another qpurge acting on " in werr and f"(PID {first.pid}: " in werr,
          "--wait says whom it waits for")
    check(done_ids(wout) == b and len(wout.splitlines()) == 5,
          "--wait planned afresh: only b's 5 messages, none of a's as not found")
    check(inst.ids() == before - a - b and c <= inst.ids(), "c's messages, refused, are all still there")
    check(time.time() >= first_done, "the waiting purge ended after the first")
    return c


def bind_mount(inst, env, lock_dir):
    """Two paths to one spool (a bind mount) share one lock."""
    f, g = enqueue(inst, "f", 6), enqueue(inst, "g", 3)
    mnt = os.path.join(inst.root, "spool-bind")
    os.mkdir(mnt)
    if subprocess.run(["mount", "--bind", inst.spool, mnt]).returncode != 0:
        print("skipped: mount --bind is not allowed here")
        return
    first = None
    try:
        same = os.stat(mnt), os.stat(inst.spool)
        check((same[0].st_dev, same[0].st_ino) == (same[1].st_dev, same[1].st_ino), f"{mnt} is the spool, bind-mounted")
        first = start(inst, env, "--sender", "f@lock.example", "--yes", "--rate", "2", "--format", "json")
        check(wait_for_holder(lock_dir, first.pid), f"the first purge (PID {first.pid}) holds the lock")
        for path in (mnt, mnt + "/", inst.spool + "/."):
            second = inst.qpurge("--queue-dir", path, "--sender", "g@lock.example", "--yes", env=env)
            check(second.returncode == 2, f"an acting purge through {path} meanwhile: exit 2 ({second.returncode})")
            check(f"another qpurge is acting on {path}, the same directory as " in second.stderr
                  and f"(PID {first.pid}: " in second.stderr and "nothing changed" in second.stderr,
                  f"the refusal names the other path and the holder ({second.stderr.strip()[:300]})")
        check(g <= inst.ids(), "g's messages, refused, are all still there")
        locks = sorted(os.listdir(lock_dir))
        name = f"queue-{same[1].st_dev}-{same[1].st_ino}.lock"
        check(name in locks, f"the lock file is named for the device and inode: {name} ({locks})")
        out, err = first.communicate(timeout=120)
        check(first.returncode == 0 and done_ids(out) == f, f"the first purge removed its 6 ({err.strip()[-200:]})")
        p = inst.qpurge("--queue-dir", mnt, "--sender", "g@lock.example", "--yes", env=env)
        check(p.returncode == 0 and not (g & inst.ids()), f"once it is done, a purge through {mnt} acts ({p.stderr[-200:]})")
    finally:
        if first and first.poll() is None:
            first.kill()
            first.wait()
        if subprocess.run(["umount", mnt]).returncode != 0:
            subprocess.run(["umount", "-l", mnt])
        os.rmdir(mnt)


def rate_wall_time(inst, env):
    d = enqueue(inst, "d", 20)
    t = time.time()
    p = inst.qpurge("--sender", "d@lock.example", "--yes", "--rate", "5", env=env)
    wall = time.time() - t
    check(p.returncode == 0 and not (d & inst.ids()), f"--rate 5: the real postsuper removed all 20 ({p.stderr[-200:]})")
    check(3.0 <= wall < 30, f"--rate 5 on 20 messages took {wall:.1f} s (about 4 s expected)")
    print(f"measured: --rate 5 on 20 messages: {wall:.2f} s wall time")
    e = enqueue(inst, "e", 6)
    os.environ["QPURGE_LOCK_DIR"] = env["QPURGE_LOCK_DIR"]  # on_terminal() passes on this environment
    out, status = on_terminal([QPURGE, "-c", inst.conf, "--audit-log", os.path.join(inst.root, "audit.jsonl"),
                               "--sender", "e@lock.example", "--yes", "--rate", "3"])
    del os.environ["QPURGE_LOCK_DIR"]
    text = out.decode(errors="replace")
    check(status == 0 and not (e & inst.ids()), "--rate 3 on a terminal: all 6 removed")
    check("--rate 3 IDs/s, about " in text and " s left" in text, "the progress line shows the rate and the time left")


def default_lock_dir(inst, remaining):
    """Without QPURGE_LOCK_DIR the lock file is in /run/qpurge, named for the queue's device and inode."""
    if not os.access("/run", os.W_OK):
        print("skipped: /run is not writable here")
        return
    env = {k: v for k, v in os.environ.items() if k != "QPURGE_LOCK_DIR"}
    made = not os.path.exists("/run/qpurge")
    p = inst.qpurge("--sender", "c@lock.example", "--yes", env=env)
    st = os.stat(inst.spool)
    path = os.path.join("/run/qpurge", f"queue-{st.st_dev}-{st.st_ino}.lock")
    check(p.returncode == 0 and not (remaining & inst.ids()), "an acting run with the default lock directory")
    check(os.path.isfile(path) and os.stat("/run/qpurge").st_mode & 0o777 == 0o700,
          f"its lock file is {path}, in /run/qpurge (mode 0700)")
    if os.path.isfile(path):
        os.unlink(path)
    if made:
        os.rmdir("/run/qpurge")


def main():
    skip_unless_possible()
    with Instance("lock") as inst:
        lock_dir = os.path.join(inst.root, "locks")
        env = dict(os.environ, QPURGE_LOCK_DIR=lock_dir)
        remaining = concurrent_runs(inst, env, lock_dir)
        bind_mount(inst, env, lock_dir)
        rate_wall_time(inst, env)
        default_lock_dir(inst, remaining)
    finish()


if __name__ == "__main__":
    main()
