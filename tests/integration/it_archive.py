#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Undo a purge: --archive, --restore, --archives, --prune-archives (README,
"Undo a purge"), on a real private Postfix instance.

Expectations come from Postfix's own tools and the files on disk: postqueue -j
before and after, postcat, the maillog, the queue files and defer logs read
before the purge, a real delivery to smtp-sink (Postfix's test server); never
from qpurge's output alone.

  1  purge --recipient-domain example.com --archive D: exactly those messages
     are gone; D/<run> (mode 0700) holds one file per deleted message, byte
     for byte the queue file (SHA-256 = the manifest's; mode and mtime kept)
     and its defer log
  2  --restore D/<run> --dry-run changes nothing; --restore --sender X puts
     back that message alone; --restore puts the others back: all in hold,
     same sender, recipients, size, arrival time, same bytes and envelope
     (postcat -e, original recipients included), under the new IDs qpurge
     reports (and the manifest records)
  3  one restored message, released (postsuper -H) and delivered for real to
     smtp-sink: its body is byte-identical to the original's (postcat -b
     before the purge), its original recipient (virtual alias) survives
  4  a second --restore of the run adds nothing (not even the delivered one)
  5  a tampered copy (one byte flipped) is refused, the others restored, exit 3
  6  an archive on a 64 KiB tmpfs: refused up front, exit 2, nothing deleted;
     a tmpfs with room for the bytes but too few inodes: the copies that
     cannot be made are not deleted (not_archived, exit 3), and every message
     that was deleted has its full copy
  7  --archives D names the runs; --prune-archives D --older-than 0s --yes
     removes them

Exit status: 0 pass, 1 fail, 77 skip (not root, or Postfix not installed).
"""
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
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


# ------------------------------------------------------------------ checks

def purge_archive(inst, archive, domain, want):
    """Purges --recipient-domain DOMAIN --archive ARCHIVE; returns (process, run dir)."""
    before = set(os.listdir(archive))
    p = inst.qpurge("--recipient-domain", domain, "--archive", archive, "--yes", "--format", "json")
    print(f"-- purge {domain}: {short(p)}")
    dirs = new_dirs(archive, before)
    check(len(dirs) == 1, f"{domain}: one new run directory in the archive ({dirs})")
    return p, os.path.join(archive, dirs[0]) if dirs else None


def check_archive(inst, p, rundir, snap, ids, label):
    """Check 1's judgement of a run directory, for the IDs that were deleted."""
    check(rundir is not None and os.stat(rundir).st_mode & 0o777 == 0o700, f"{label}: the run directory is mode 0700")
    if rundir is None:
        return
    files = message_files(rundir)
    check(files == set(ids), f"{label}: one file per deleted message, named by its queue ID"
          f" (missing {sorted(set(ids) - files)}, extra {sorted(files - set(ids))})")
    recs = manifest(rundir)
    check(len(by_record(recs, "run")) == 1 and recs and recs[0].get("record") == "run",
          f"{label}: the manifest starts with one run record")
    msg = {r.get("queue_id"): r for r in by_record(recs, "message")}
    bad_sha, bad_meta, bad_log = [], [], []
    for qid in ids:
        path = os.path.join(rundir, qid)
        if not os.path.exists(path):
            continue
        s = snap[qid]
        if not (sha256(path) == s["sha"] == msg.get(qid, {}).get("sha256")):
            bad_sha.append(qid)
        st = os.stat(path)
        if st.st_mode & 0o7777 != s["mode"] or int(st.st_mtime) != s["mtime"]:
            bad_meta.append((qid, oct(st.st_mode & 0o7777), oct(s["mode"]), int(st.st_mtime), s["mtime"]))
        log = os.path.join(rundir, qid + ".defer")
        if s["defer"] is not None and (not os.path.exists(log) or read(log) != s["defer"]):
            bad_log.append(qid)
    check(not bad_sha, f"{label}: each copy is the queue file byte for byte, its SHA-256 the manifest's ({bad_sha})")
    check(not bad_meta, f"{label}: each copy keeps the queue file's mode and mtime ({bad_meta[:3]})")
    check(not bad_log, f"{label}: each message's defer log is archived beside it, byte for byte ({bad_log})")
    outcomes = {r.get("queue_id"): r.get("result") for r in by_record(recs, "outcome")}
    check(set(ids) <= set(outcomes) and all(outcomes[i] == results(p).get(i) for i in ids),
          f"{label}: the manifest records each delete's outcome, as qpurge reported it ({outcomes})")


def check1_purge(inst, archive, snap, expected):
    before = inst.postqueue()
    before_ids = {m["queue_id"] for m in before}
    p, rundir = purge_archive(inst, archive, "example.com", expected)
    after = inst.postqueue()
    after_ids = {m["queue_id"] for m in after}
    check(before_ids - after_ids == expected, f"1: exactly the example.com messages are gone (postqueue -j)"
          f" (missing {sorted(expected - (before_ids - after_ids))}, extra {sorted((before_ids - after_ids) - expected)})")
    check(after_ids == before_ids - expected, "1: every other message is still there")
    check(maillog_removed(inst, expected, wait=3) == expected, "1: the maillog has 'removed' for each of them")
    check(p.returncode == 0, f"1: exit 0 ({short(p)})")
    check_archive(inst, p, rundir, snap, expected, "1")
    audit = json_lines(read(os.path.join(inst.root, "audit.jsonl"), "r"))
    check(rundir is not None and any(a.get("archive") == rundir for a in audit),
          "1: the audit log's records name the run directory")
    return rundir


def check_files(inst, res, snap, label):
    """The files qpurge says it restored, as they are on disk in hold: the
    original's bytes and mode (a mode Postfix cannot read hides the message
    from postqueue -j)."""
    bad = []
    for old, (result, new, where) in sorted(res.items()):
        if result != "restored":
            continue
        path = queue_file(inst, where or "hold", new or "?")
        if path is None:
            bad.append((old, new, "no such file"))
            continue
        st = os.stat(path)
        if sha256(path) != snap[old]["sha"] or st.st_mode & 0o7777 != snap[old]["mode"]:
            bad.append((old, new, f"mode {oct(st.st_mode & 0o7777)}, was {oct(snap[old]['mode'])}"))
    check(not bad, f"{label}: each file qpurge reports restored is in hold with the original's bytes and mode ({bad[:4]})")


def check2_restore(inst, rundir, snap, expected):
    # the dry run first: nothing changes
    before = queue(inst)
    p = inst.qpurge("--restore", rundir, "--dry-run", "--format", "json")
    res = restore_results(p)
    check(p.returncode == 0 and set(res) == expected, f"2: --restore --dry-run names each message, exit 0 ({short(p)})")
    check(queue(inst) == before, "2: ... and changes nothing (postqueue -j)")

    # selectors choose among the archived messages: c0's alone
    (first,) = [q for q in expected if snap[q]["pq"]["sender"] == "c0@sender.test"]
    p = inst.qpurge("--restore", rundir, "--sender", "c0@sender.test", "--format", "json")
    print(f"-- restore --sender c0@sender.test: {short(p)}")
    res = restore_results(p)
    mid = queue(inst)
    added = [m for i, m in mid.items() if i not in before]
    check(p.returncode == 0 and [key(m) for m in added] == [snap[first]["key"]],
          f"2: --restore --sender c0@sender.test restores that message alone ({len(added)} added, {short(p)})")
    # then the rest
    p = inst.qpurge("--restore", rundir, "--format", "json")
    print(f"-- restore: {short(p)}")
    res.update({q: r for q, r in restore_results(p).items() if q != first})
    after = queue(inst)
    check(p.returncode == 0, f"2: --restore of the rest: exit 0 ({short(p)})")
    added = [m for i, m in after.items() if i not in before]
    check(len(added) == len(expected), f"2: {len(expected)} messages in all are added to the queue ({len(added)})")
    check(all(m["queue_name"] == "hold" for m in added), "2: ... all in hold")
    check({i: m for i, m in after.items() if i in before} == before, "2: nothing else in the queue changed")
    check_files(inst, res, snap, "2")
    by_key = {key(m): m for m in added}
    mapping, wrong = {}, []
    for qid in sorted(expected):
        s = snap[qid]
        m = by_key.get(s["key"])
        if m is None:
            wrong.append((qid, "not found"))
            continue
        mapping[qid] = m["queue_id"]
        if m["message_size"] != s["pq"]["message_size"] or m["forced_expire"] != s["pq"]["forced_expire"]:
            wrong.append((qid, "size or forced_expire"))
        r = res.get(qid)
        if r is None or r[0] != "restored" or r[1] != m["queue_id"] or r[2] != "hold":
            wrong.append((qid, f"reported {r}, postqueue -j shows {m['queue_id']}"))
    check(not wrong, f"2: each message is back in hold with its sender, recipients, size and arrival time,"
          f" under the new ID qpurge reports ({wrong})")
    same_bytes = [q for q, n in mapping.items()
                  if queue_file(inst, "hold", n) is None or sha256(queue_file(inst, "hold", n)) != snap[q]["sha"]]
    check(not same_bytes, f"2: each restored queue file is the original byte for byte ({same_bytes})")
    same_env = [q for q, n in mapping.items() if envelope(inst, n) != snap[q]["envelope"]]
    check(not same_env, f"2: postcat -e shows the same envelope, original recipients included ({same_env})")
    recs = {r.get("queue_id"): r for r in by_record(manifest(rundir), "restored")}
    check({q: (recs.get(q, {}).get("new_queue_id"), recs.get(q, {}).get("queue_name")) for q in mapping} ==
          {q: (n, "hold") for q, n in mapping.items()}, "2: the manifest records each restore, old ID -> new ID")
    return mapping


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def check3_deliver(inst, old, new, snap):
    sinkdir = os.path.join(inst.root, "sink")
    os.makedirs(sinkdir)
    shutil.chown(sinkdir, "postfix")
    port = free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "postfix", "-d", os.path.join(sinkdir, "%M."), f"127.0.0.1:{port}", "100"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        run(["postconf", "-c", inst.conf, "-e", f"relayhost = [127.0.0.1]:{port}"])
        run(["postfix", "-c", inst.conf, "reload"])
        time.sleep(1)
        inst.postsuper("-H", new)
        run(["postqueue", "-c", inst.conf, "-i", new])
        end = time.time() + 30
        while time.time() < end and (new in inst.ids() or not os.listdir(sinkdir)):
            time.sleep(0.3)
        check(new not in inst.ids(), f"3: {new} (restored {old}) was released and left the queue")
        log = read(os.path.join(inst.root, "maillog"), "r")
        sent = re.findall(rf"\b{new}: to=<([^>]*)>, (?:orig_to=<([^>]*)>, )?relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port},.*status=sent", log)
        check(sent == [("real@example.com", "alias@example.com")],
              f"3: the maillog: sent to real@example.com, orig_to alias@example.com, via smtp-sink ({sent})")
        files = sorted(os.listdir(sinkdir))
        check(len(files) == 1, f"3: smtp-sink received one message ({files})")
        if files:
            got = read(os.path.join(sinkdir, files[0])).replace(b"\r\n", b"\n")
            head, sep, rest = got.partition(b"\n\n")
            check(b"ORCPT=rfc822;alias@example.com" in head and b"<c7@sender.test>" in head,
                  "3: the SMTP envelope names the sender and the original recipient (ORCPT)")
            # postcat -b prints the empty line that ends the headers, then the
            # body; smtp-sink writes one empty line after each message.
            want = snap[old]["body"].replace(b"\r\n", b"\n")
            check(sep and b"\n" + rest == want + b"\n",
                  f"3: the delivered body is byte-identical to the original ({len(rest) - 1} and {len(want) - 1} bytes)")
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        run(["postconf", "-c", inst.conf, "-e", "relayhost = [127.0.0.1]:9"])
        run(["postfix", "-c", inst.conf, "reload"])


def check4_again(inst, rundir):
    before = queue(inst)
    hold_before = sorted(os.listdir(os.path.join(inst.spool, "hold")))
    p = inst.qpurge("--restore", rundir, "--format", "json")
    print(f"-- restore again: {short(p)}")
    check(p.returncode in (0, 1), f"4: a second --restore: exit 0 or 1 ({short(p)})")
    check(queue(inst) == before, f"4: ... adds nothing, not even the message delivered since (postqueue -j)")
    check(sorted(os.listdir(os.path.join(inst.spool, "hold"))) == hold_before, "4: ... and no file in hold")
    check(not [r for r in restore_results(p).values() if r[0] == "restored"], "4: ... and reports nothing restored")


def check5_tampered(inst, archive, snap, set2):
    p, rundir = purge_archive(inst, archive, "example.net", set2)
    check(p.returncode == 0 and not (set2 & inst.ids()), f"5: the example.net messages are purged ({short(p)})")
    if rundir is None:
        return None
    check_archive(inst, p, rundir, snap, set2, "5")
    victim = sorted(set2)[0]
    path = os.path.join(rundir, victim)
    data = bytearray(read(path))
    at = data.find(b"TAMPERME")
    data[at + 7] ^= 0x01  # 'E' -> 'D': Postfix would still take the file
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    before = inst.postqueue()
    p = inst.qpurge("--restore", rundir, "--format", "json")
    print(f"-- restore tampered: {short(p)}")
    res = restore_results(p)
    check_files(inst, res, snap, "5")
    after = inst.postqueue()
    keys = {key(m) for m in after}
    check(snap[victim]["key"] not in keys, f"5: the tampered message ({victim}) is not restored (postqueue -j)")
    restored = {q for q in set2 - {victim} if snap[q]["key"] in keys}
    check(restored == set2 - {victim}, f"5: the other {len(set2) - 1} are restored ({sorted(restored)})")
    check(len(after) == len(before) + len(set2) - 1, "5: nothing else is added")
    check(res.get(victim, ("?",))[0] not in ("restored", None), f"5: qpurge reports it refused ({res.get(victim)})")
    check(p.returncode == 3, f"5: exit 3 ({short(p)})")
    recs = {r.get("queue_id") for r in by_record(manifest(rundir), "restored")}
    check(victim not in recs, "5: the manifest has no restore record for it")
    return rundir


def mount(mnt, opts):
    run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", mnt])


def check6_space(inst, mnt, snap, set3):
    os.makedirs(mnt, exist_ok=True)
    mount(mnt, "size=64k")
    try:
        with open(os.path.join(mnt, "filler"), "wb") as f:
            f.write(b"x" * 32768)
        plan_bytes = sum(snap[q]["pq"]["message_size"] for q in set3)
        print(f"-- 64 KiB tmpfs, 32 KiB used; the plan's messages are {plan_bytes} bytes")
        before = queue(inst)
        p = inst.qpurge("--recipient-domain", "full.example", "--archive", mnt, "--yes", "--format", "json")
        print(f"-- purge into a full archive: {short(p)}")
        check(p.returncode == 2, f"6: an archive that cannot hold the copies: exit 2 ({short(p)})")
        check(queue(inst) == before, "6: ... nothing deleted (postqueue -j)")
        check(not maillog_removed(inst, set3, wait=1), "6: ... the maillog has no 'removed' for them")
        check(os.listdir(mnt) == ["filler"], f"6: ... and no run directory was made ({os.listdir(mnt)})")
    finally:
        run(["umount", mnt])

    # Room for the bytes (and the 1 MiB margin), not for the files: a root
    # directory, a run directory, its manifest, and two messages with their
    # defer logs.
    mount(mnt, "size=8m,nr_inodes=7")
    try:
        before = inst.postqueue()
        before_ids = {m["queue_id"] for m in before}
        p = inst.qpurge("--recipient-domain", "full.example", "--archive", mnt, "--yes", "--format", "json")
        print(f"-- purge into an archive short of inodes: {short(p)}")
        res = results(p)
        after_ids = inst.ids()
        deleted = before_ids - after_ids
        kept = set3 & after_ids
        check(deleted <= set3, "6: nothing outside the selection was deleted")
        if p.returncode == 2 and not deleted:
            print("note: qpurge refused up front with too few inodes; no copy failed mid-run here")
            check(kept == set3, "6: (refused up front) nothing deleted")
            return
        dirs = [d for d in os.listdir(mnt)]
        rundir = os.path.join(mnt, dirs[0]) if len(dirs) == 1 else None
        check(rundir is not None, f"6: one run directory ({dirs})")
        check(deleted and kept, f"6: some copies were made and deleted ({sorted(deleted)}), some not ({sorted(kept)})")
        check(maillog_removed(inst, set3, wait=3) == deleted, "6: the maillog's 'removed' are exactly those gone")
        msg = {r.get("queue_id"): r for r in by_record(manifest(rundir), "message")} if rundir else {}
        unsafe = [q for q in deleted if rundir is None or not os.path.exists(os.path.join(rundir, q)) or
                  sha256(os.path.join(rundir, q)) != snap[q]["sha"] or msg.get(q, {}).get("sha256") != snap[q]["sha"]]
        check(not unsafe, f"6: every deleted message has its full copy, SHA-256 in the manifest ({unsafe})")
        logs = [q for q in deleted if snap[q]["defer"] is not None and
                (rundir is None or not os.path.exists(os.path.join(rundir, q + ".defer")))]
        check(not logs, f"6: ... and its defer log ({logs})")
        check({q: res.get(q) for q in kept} == {q: "not_archived" for q in kept},
              f"6: each message not deleted is reported not_archived ({ {q: res.get(q) for q in kept} })")
        check(all(m["queue_name"] == "deferred" for m in inst.postqueue() if m["queue_id"] in kept),
              "6: ... and is still deferred")
        check(p.returncode == 3, f"6: exit 3 ({short(p)})")
    finally:
        run(["umount", mnt])


def check7_list_prune(inst, archive, runs):
    names = [os.path.basename(r) for r in runs if r]
    p = inst.qpurge("--archives", archive)
    print(p.stdout.strip())
    check(p.returncode == 0, f"7: --archives exit 0 ({short(p)})")
    check(all(n in p.stdout for n in names), f"7: --archives names each run ({names})")
    time.sleep(1)
    p = inst.qpurge("--prune-archives", archive, "--older-than", "0s", "--yes")
    print(f"-- prune: {short(p)}")
    check(p.returncode == 0, f"7: --prune-archives --older-than 0s --yes exit 0 ({short(p)})")
    check(os.path.isdir(archive) and not [n for n in names if os.path.exists(os.path.join(archive, n))],
          f"7: the run directories are gone, the archive directory stays ({os.listdir(archive)})")
    p = inst.qpurge("--archives", archive)
    check(p.returncode in (0, 1) and not [n for n in names if n in p.stdout], f"7: --archives lists none now ({short(p)})")


def main():
    skip_unless_possible()
    if "--archive" not in run([QPURGE, "--help"], check_rc=False).stdout:
        print(f"FAIL: {QPURGE} has no --archive")
        sys.exit(1)
    t0 = time.time()
    with Instance("archive") as inst:
        build_queue(inst)
        msgs = inst.postqueue()
        snap = snapshot(inst, msgs)
        expected = {m["queue_id"] for m in msgs if rdoms(m) and all(d == "example.com" for d in rdoms(m))}
        set2 = {m["queue_id"] for m in msgs if rdoms(m) == ["example.net"]}
        set3 = {m["queue_id"] for m in msgs if rdoms(m) == ["full.example"]}
        check(len(expected) == 10 and len(set2) == 4 and len(set3) == 5 and len(msgs) == 29 and
              all(m["queue_name"] == "deferred" for m in msgs),
              f"queue: 29 deferred, 10 for example.com only, 4 example.net, 5 full.example ({len(msgs)},"
              f" {len(expected)}, {len(set2)}, {len(set3)})")
        aliased = [q for q in expected if snap[q]["pq"]["sender"] == "c7@sender.test"]
        check(len(aliased) == 1 and [r["address"] for r in snap[aliased[0]]["pq"]["recipients"]] == ["real@example.com"]
              and "original_recipient: alias@example.com" in snap[aliased[0]]["envelope"],
              "queue: c7's alias@example.com was rewritten to real@example.com (postcat -e)")
        archive = os.path.join(inst.root, "archive")
        os.makedirs(archive)
        mnt = os.path.join(inst.root, "mnt")
        try:
            run1 = check1_purge(inst, archive, snap, expected)
            mapping = check2_restore(inst, run1, snap, expected) if run1 else {}
            if aliased and aliased[0] in mapping:
                check3_deliver(inst, aliased[0], mapping[aliased[0]], snap)
            else:
                check(False, "3: no restored message to deliver")
            if run1:
                check4_again(inst, run1)
            run2 = check5_tampered(inst, archive, snap, set2)
            check6_space(inst, mnt, snap, set3)
            check7_list_prune(inst, archive, [run1, run2])
            others = {m["queue_id"] for m in msgs} - expected - set2 - set3
            check(others <= inst.ids(), "no message outside the selections was touched")
        finally:
            if os.path.ismount(mnt):
                subprocess.run(["umount", mnt])
    print(f"ran in {time.time() - t0:.0f}s")
    finish()


if __name__ == "__main__":
    main()
