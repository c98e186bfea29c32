#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""it_archive's checks 8 to 11: the maildrop queue refused, archive
directories trusted only when root alone can change them, --archive kept in
a saved plan, a long --ids-from recorded by count and digest."""
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import QPURGE, Instance, check, finish, run, skip_unless_possible  # noqa: E402
from archive_oracles import *  # noqa: E402,F401,F403


def postfix_running(inst):
    return run(["postfix", "-c", inst.conf, "status"], check_rc=False).returncode == 0


def check8_maildrop(inst):
    """A maildrop (postdrop) file is never archived, so never deleted (issue
    19 item 3, F_maildrop_restore): --archive with --queue maildrop is a usage
    error; once pickup has moved the message into a queue it can be archived
    and restored."""
    run(["postfix", "-c", inst.conf, "stop"])
    end = time.time() + 10
    while postfix_running(inst) and time.time() < end:
        time.sleep(0.2)
    maildrop = os.path.join(inst.spool, "maildrop")
    archive = os.path.join(inst.root, "archive-maildrop")
    os.makedirs(archive)
    try:
        send(inst, "md@sender.test", ["md@maildrop.example"], message("md", "maildrop"))
        files = os.listdir(maildrop)
        check(len(files) == 1, f"8: sendmail with Postfix stopped leaves one postdrop file in maildrop ({files})")
        for mode in ("--dry-run", "--yes"):
            p = inst.qpurge("--queue", "maildrop", "--all", "--archive", archive, mode)
            check(p.returncode == 2 and "--archive cannot keep maildrop messages: they are postdrop files, not queue"
                  " files, and --restore could not put them back; leave maildrop out of --queue" in p.stderr,
                  f"8: --queue maildrop --all --archive {mode}: exit 2, saying why ({short(p)})")
        check(os.listdir(maildrop) == files, "8: ... the postdrop file is still in maildrop")
        check(os.listdir(archive) == [], f"8: ... and no run directory was made ({os.listdir(archive)})")
    finally:
        run(["postfix", "-c", inst.conf, "start"])
    end = time.time() + 30
    while time.time() < end and os.listdir(maildrop):
        time.sleep(0.3)
    inst.settle()
    md = [m for m in inst.postqueue() if m["sender"] == "md@sender.test"]
    check(len(md) == 1 and md[0]["queue_name"] == "deferred", f"8: pickup moved it into the queue ({md})")
    p = inst.qpurge("--recipient-domain", "maildrop.example", "--archive", archive, "--yes", "--format", "json")
    runs = os.listdir(archive)
    check(p.returncode == 0 and len(runs) == 1, f"8: from there --archive keeps it and deletes it ({short(p)})")
    if len(runs) == 1:
        p = inst.qpurge("--restore", os.path.join(archive, runs[0]), "--yes", "--format", "json")
        res = restore_results(p)
        back = [m for m in inst.postqueue() if m["sender"] == "md@sender.test"]
        check(p.returncode == 0 and len(back) == 1 and back[0]["queue_name"] == "hold" and
              [r[0] for r in res.values()] == ["restored"], f"8: ... and --restore puts it back in hold ({short(p)})")
        if back:
            inst.postsuper("-d", back[0]["queue_id"])
    corrupt = os.path.join(inst.spool, "corrupt")
    check(not os.path.isdir(corrupt) or not os.listdir(corrupt), "8: nothing in corrupt/")


def forge(run_dir, forged_dir, qid):
    """What the attacker of G_archive_dir_owner plants: the run, its copy
    changed to a recipient of their choosing, the manifest's SHA-256 made to
    match; every file theirs (uid 65534)."""
    shutil.copytree(run_dir, forged_dir)
    path = os.path.join(forged_dir, qid)
    data = read(path).replace(b"t0@trust.example", b"victim@evil.info")  # as long: the records still parse
    with open(path, "wb") as f:
        f.write(data)
    lines = []
    for line in read(os.path.join(forged_dir, "manifest.jsonl"), "r").splitlines():
        rec = json.loads(line)
        if rec.get("record") == "message" and rec.get("queue_id") == qid:
            rec["sha256"] = hashlib.sha256(data).hexdigest()
        lines.append(json.dumps(rec))
    with open(os.path.join(forged_dir, "manifest.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for dirpath, _, names in os.walk(forged_dir):
        os.chown(dirpath, 65534, 65534)
        for n in names:
            os.chown(os.path.join(dirpath, n), 65534, 65534)


def as_nobody(*cmd):
    return run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd], check_rc=False)


def check9_trust(inst, snap, set4):
    """A run another user could have changed is never restored (issue 19
    item 7, G_archive_dir_owner): an archive directory owned by nobody and
    writable by all is refused for --archive; a run in one, or a run swapped
    for a forged one by that user, is refused for --restore (exit 2), dry run
    or not, and nothing of it reaches the queue."""
    pub = tempfile.mkdtemp(prefix="qpurge-it-pub-", dir="/tmp")
    os.chmod(pub, 0o755)
    archive = os.path.join(pub, "archive")
    os.mkdir(archive)
    os.chown(archive, 65534, 65534)
    os.chmod(archive, 0o777)
    try:
        before = queue(inst)
        p = inst.qpurge("--recipient-domain", "trust.example", "--archive", archive, "--yes")
        check(p.returncode == 2 and "owned by uid 65534, not by root" in p.stderr,
              f"9: --archive into a directory nobody owns and all can write: exit 2 ({short(p)})")
        check(queue(inst) == before and os.listdir(archive) == [], "9: ... nothing deleted, no run made")
        os.chown(archive, 0, 0)
        os.chmod(archive, 0o700)
        p = inst.qpurge("--recipient-domain", "trust.example", "--archive", archive, "--yes")
        runs = os.listdir(archive)
        check(p.returncode == 0 and len(runs) == 1 and not (set4 & inst.ids()),
              f"9: into a root-owned 0700 directory the purge archives and deletes ({short(p)})")
        if len(runs) != 1:
            return
        rundir = os.path.join(archive, runs[0])
        qid = sorted(set4, key=lambda q: snap[q]["pq"]["sender"])[0]  # t0's
        # A botched chown -R hands the archive directory to nobody; nobody swaps the run.
        forge(rundir, os.path.join(archive, ".forge"), qid)
        os.chown(archive, 65534, 65534)
        os.chmod(archive, 0o777)
        p = as_nobody("sh", "-c", f"mv '{rundir}' '{archive}/.real' && mv '{archive}/.forge' '{rundir}'")
        check(p.returncode == 0, f"9: (the attacker, as nobody, swapped the run for a forged one: {short(p)})")
        before = queue(inst)
        for mode in ("--dry-run", "--yes"):
            p = inst.qpurge("--restore", rundir, mode)
            check(p.returncode == 2 and f"archive directory {archive}: {archive}: owned by uid 65534, not by root:"
                  " another user could replace what qpurge writes or reads there" in p.stderr,
                  f"9: --restore {mode} of a run in that directory: exit 2, naming it ({short(p)})")
        os.chown(archive, 0, 0)
        os.chmod(archive, 0o700)
        p = inst.qpurge("--restore", rundir, "--yes")
        check(p.returncode == 2 and f"archive run {rundir}: {rundir}: owned by uid 65534, not by root" in p.stderr,
              f"9: with the directory fixed, the forged run itself (nobody's) is refused: exit 2 ({short(p)})")
        after = inst.postqueue()
        check(queue(inst) == before and not any(r["address"] == "victim@evil.info" for m in after for r in m["recipients"]),
              "9: nothing was put back: no victim@evil.info in the queue (postqueue -j)")
        # The real run, put back where it was, restores.
        shutil.rmtree(rundir)
        os.rename(os.path.join(archive, ".real"), rundir)
        p = inst.qpurge("--restore", rundir, "--yes", "--format", "json")
        keys = {key(m) for m in inst.postqueue()}
        check(p.returncode == 0 and all(snap[q]["key"] in keys for q in set4),
              f"9: the real run restores both messages ({short(p)})")
    finally:
        shutil.rmtree(pub, ignore_errors=True)


def check10_plan_archive(inst):
    """--archive with --save-plan (issue 19 item 8): the plan records the
    archive, and --apply-plan archives as the plan says."""
    for i in range(3):
        send(inst, f"p{i}@sender.test", [f"p{i}@plan.example"], message(f"p{i}", f"plan set {i}"))
    time.sleep(1)
    inst.settle()
    before = queue(inst)
    mine = {q for q, m in before.items() if rdoms(m) == ["plan.example"]}
    check(len(mine) == 3, f"10: three messages for plan.example ({sorted(mine)})")
    archive, other = os.path.join(inst.root, "archive-plan"), os.path.join(inst.root, "archive-other")
    os.makedirs(archive)
    plan = os.path.join(inst.root, "plan-archive.jsonl")
    p = inst.qpurge("--recipient-domain", "plan.example", "--archive", archive, "--save-plan", plan)
    header = json.loads(read(plan, "r").splitlines()[0]) if os.path.exists(plan) else {}
    check(p.returncode == 0 and header.get("archive") == archive and os.listdir(archive) == [] and
          queue(inst) == before, f"10: --save-plan --archive records the archive, changes nothing ({short(p)})")
    p = inst.qpurge("--apply-plan", plan, "--archive", other, "--yes")
    check(p.returncode == 2 and "the plan was saved with --archive" in p.stderr and queue(inst) == before and
          not os.path.exists(other) and os.listdir(archive) == [],
          f"10: --apply-plan with another --archive: exit 2, nothing changed ({short(p)})")
    p = inst.qpurge("--apply-plan", plan, "--yes")
    runs = os.listdir(archive)
    check(p.returncode == 0 and "(the plan's --archive)" in p.stdout + p.stderr and len(runs) == 1 and
          not (mine & inst.ids()), f"10: --apply-plan archives as the plan says and deletes ({short(p)}; {runs})")
    if len(runs) != 1:
        return
    p = inst.qpurge("--restore", os.path.join(archive, runs[0]), "--yes")
    keys = {key(m) for m in inst.postqueue()}
    check(p.returncode == 0 and all(key(before[q]) in keys for q in mine),
          f"10: --restore of that run brings the three messages back ({short(p)})")


def check11_long_ids(inst):
    """A long --ids-from (issue 19 item 9, E_idsfrom_prune): the run header
    names the list by count and digest, and the run is listed and pruned."""
    for i in range(2):
        send(inst, f"l{i}@sender.test", [f"l{i}@long.example"], message(f"l{i}", f"long list {i}"))
    time.sleep(1)
    inst.settle()
    mine = sorted(q for q, m in queue(inst).items() if rdoms(m) == ["long.example"])
    ids = os.path.join(inst.root, "long.ids")
    with open(ids, "w") as f:
        f.write("".join(q + "\n" for q in mine) + "".join("%011X\n" % (0x10000000000 + i) for i in range(40000)))
    archive = os.path.join(inst.root, "archive-long")
    os.makedirs(archive)
    p = inst.qpurge("--ids-from", ids, "--archive", archive, "--yes")
    runs = os.listdir(archive)
    check(p.returncode == 0 and len(runs) == 1 and not (set(mine) & inst.ids()),
          f"11: --ids-from with 40,002 IDs --archive: the two real ones archived and deleted ({short(p)})")
    if len(runs) != 1:
        return
    rundir = os.path.join(archive, runs[0])
    head = read(os.path.join(rundir, "manifest.jsonl"), "r").splitlines()[0]
    crit = json.loads(head)["criteria"][0]
    check(len(head) < 2000 and crit.get("count") == 40002 and
          crit.get("sha256") == sha256(os.path.join(rundir, "criterion-id.list")),
          f"11: the run header is short and names the list by count and SHA-256 ({len(head)} bytes, {crit})")
    p = inst.qpurge("--archives", archive)
    check(p.returncode == 0 and "40002 values" in p.stdout and max(map(len, p.stdout.splitlines())) < 400,
          f"11: --archives prints the count, on a short line ({p.stdout.strip()[:300]!r})")
    time.sleep(1)
    p = inst.qpurge("--prune-archives", archive, "--older-than", "0s", "--yes")
    check(p.returncode == 0 and os.listdir(archive) == [], f"11: --prune-archives removes the run ({short(p)})")

