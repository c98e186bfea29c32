#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""it_archive's corpus (the queue it builds) and its oracles (what postqueue
-j, postcat, the queue files, the maillog and the manifests say), shared
with archive_checks.py."""
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


# ---------------------------------------------------------------- the corpus

def body(tag, lines=40, width=70):
    """A body that exercises SMTP's transparency: lines starting with dots,
    a lone dot, empty lines, trailing blanks, a From_ line."""
    out = [f"body of {tag}", "", ".", "..two dots", ".starts with a dot", "From the start of a line",
           "trailing blanks   ", "", "", "TAMPERME here"]
    for i in range(lines):
        out.append(f"{tag} line {i:04d} " + ("abcdefghij" * (width // 10))[: width - len(tag) - 11])
    return "\n".join(out) + "\n"


def message(tag, subject, size_lines=40):
    return f"Subject: {subject}\nFrom: Tester <{tag}@sender.test>\nTo: undisclosed\n\n" + body(tag, size_lines)


def send(inst, sender, rcpts, text):
    # -i: a line of one dot is part of the body, not the end of input
    run(["sendmail", "-C", inst.conf, "-i", "-f", sender, *rcpts], input=text)


def build_queue(inst):
    # original_recipient matters: alias@example.com becomes real@example.com.
    run(["postconf", "-c", inst.conf, "-e", "virtual_alias_maps = inline:{ alias@example.com=real@example.com }"])
    run(["postfix", "-c", inst.conf, "reload"])
    time.sleep(1)
    # 10 for example.com (pending recipients all in example.com, any case)
    for i in range(5):
        send(inst, f"c{i}@sender.test", [f"user{i}@example.com"], message(f"c{i}", f"campaign {i}"))
    send(inst, "c5@sender.test", ["a@example.com", "b@example.com", "C@EXAMPLE.COM"], message("c5", "three"))
    send(inst, "c6@sender.test", ["d@example.com", "e@Example.Com"], message("c6", "two"))
    send(inst, "c7@sender.test", ["alias@example.com"], message("c7", "aliased", 300))  # ~25 KB body
    send(inst, "c8@sender.test", ["alias@example.com", "f@example.com"], message("c8", "aliased too"))
    send(inst, "", ["g@example.com"], message("c9", "null sender"))
    # 10 others: near misses, mixed, other domains
    others = [["x@far.example"], ["y@example.org"], ["z@notexample.com"], ["w@example.com.evil.net"],
              ["v@sub.example.com"], ["h@example.com", "keep@far.example"], ["u@example.co"],
              ["t@far.example", "s@example.org"], ["alias@example.net.invalid"], ["r@far.example"]]
    for i, rcpts in enumerate(others):
        send(inst, f"o{i}@other.test", rcpts, message(f"o{i}", f"other {i}"))
    # set 2 (check 5) and set 3 (check 6)
    for i in range(4):
        send(inst, f"n{i}@sender.test", [f"n{i}@example.net"], message(f"n{i}", f"tamper set {i}"))
    for i in range(5):
        send(inst, f"s{i}@sender.test", [f"s{i}@full.example"], message(f"s{i}", f"space set {i}", 80))
    # set 4 (check 9)
    for i in range(2):
        send(inst, f"t{i}@sender.test", [f"t{i}@trust.example"], message(f"t{i}", f"trust set {i}"))
    time.sleep(1)
    inst.settle()


# ----------------------------------------------------------------- oracles

def queue(inst):
    """postqueue -j as queue ID -> record (its order is not part of the answer)."""
    return {m["queue_id"]: m for m in inst.postqueue()}


def key(m):
    """What identifies a message across a restore (the queue ID changes)."""
    return (m["sender"], m["arrival_time"], tuple(sorted(r["address"] for r in m["recipients"])))


def rdoms(m):
    return [r["address"].rsplit("@", 1)[-1].lower() if "@" in r["address"] else None for r in m["recipients"]]


def queue_file(inst, queue, qid):
    hits = glob.glob(os.path.join(inst.spool, queue, qid)) + glob.glob(os.path.join(inst.spool, queue, "*", qid))
    return hits[0] if hits else None


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def envelope(inst, qid):
    """postcat -e without its section lines (they name the queue and ID)."""
    p = run(["postcat", "-c", inst.conf, "-e", "-q", qid], check_rc=False)
    return [l for l in p.stdout.splitlines() if not l.startswith("***")]


def snapshot(inst, msgs):
    """Everything about each message that a faithful archive keeps, read from
    Postfix's tools and the spool before anything changes."""
    snap = {}
    for m in msgs:
        qid = m["queue_id"]
        path = queue_file(inst, m["queue_name"], qid)
        st = os.stat(path)
        dl = queue_file(inst, "defer", qid)
        snap[qid] = {
            "pq": m, "key": key(m), "sha": sha256(path), "mode": st.st_mode & 0o7777, "mtime": int(st.st_mtime),
            "defer": read(dl) if dl else None, "envelope": envelope(inst, qid),
            "body": run(["postcat", "-c", inst.conf, "-b", "-q", qid]).stdout.encode(),
        }
    return snap


def maillog_removed(inst, ids, wait=0.0):
    end = time.time() + wait
    while True:
        log = read(os.path.join(inst.root, "maillog"), "r")
        found = {i for i in ids if re.search(rf"\b{re.escape(i)}: removed\b", log)}
        if found == set(ids) or time.time() >= end:
            return found
        time.sleep(0.2)


def json_lines(text):
    out = []
    for line in text.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if isinstance(o, dict):
            out.append(o)
    return out


def results(p):
    return {o["queue_id"]: o.get("result") for o in json_lines(p.stdout) if "queue_id" in o}


def restore_results(p):
    """old ID -> (result, new ID, queue): JSON lines, or the text form
    'OLD  result as NEW in QUEUE'."""
    out = {}
    for o in json_lines(p.stdout):
        if "queue_id" in o:
            out[o["queue_id"]] = (o.get("result"), o.get("new_queue_id"), o.get("queue_name"))
    if not out:
        for line in p.stdout.splitlines():
            m = re.match(r"^(\S+)\s+(\S+?):?(?:\s+as\s+(\S+)\s+in\s+(\S+))?(?::|\s|$)", line)
            if m:
                out[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    return out


def manifest(rundir):
    recs = []
    path = os.path.join(rundir, "manifest.jsonl")
    if os.path.exists(path):
        for line in read(path, "r").splitlines():
            try:
                recs.append(json.loads(line))
            except ValueError:
                recs.append({"record": "unparsed", "line": line})
    return recs


def by_record(recs, kind):
    return [r for r in recs if r.get("record") == kind]


def message_files(rundir):
    """The archived queue files of a run: everything but the manifest and logs."""
    return {n for n in os.listdir(rundir)
            if n != "manifest.jsonl" and not n.endswith((".defer", ".bounce")) and not n.startswith(".")}


def short(p):
    return f"exit {p.returncode}; stderr: {p.stderr.strip()[-600:]!r}"


def new_dirs(parent, before):
    return sorted(set(os.listdir(parent)) - before)

