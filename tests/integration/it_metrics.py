#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qpurge --shape --format prometheus on a real queue (issue 15).

A private Postfix instance is filled with real mail for many domains, stopped,
and its files aged across the buckets in place (as it_shape does). Then:

- `qpurge --shape --all --format prometheus --output FILE` replaces an
  existing FILE (mode 0644, no temporary file left behind), and FILE parses
  with python3-prometheus-client's parser; per queue, the messages, pending
  recipients, recipients per domain and the oldest age equal what
  `postqueue -j` lists; the queues with no mail have zero totals;
- `--top 3` keeps the three domains with most recipients (from postqueue -j)
  and folds the rest into domain="other", losing nothing;
- `--shape sender` counts messages by sender domain;
- a selection (`--queue hold`, `--recipient-domain D --mixed include`) is
  all the file shows;
- while the file is rewritten again and again, a reader never sees a partial
  file; an output directory that does not exist is a fatal error (exit 2)
  that leaves nothing behind;
- the usage errors exit 2;
- the command line of packaging/systemd/qpurge-metrics.service runs.
"""
import os
import shlex
import stat
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, Instance, QPURGE, check, finish, run, skip_unless_possible  # noqa: E402
from it_shape import age_files  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's python3-prometheus-client, when this runs under another python3
    # (a pyenv, or the interpreter CMake found).
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        print("SKIP: python3-prometheus-client is not installed")
        sys.exit(77)

QUEUES = ("incoming", "active", "deferred", "hold")


def domain_of(address):
    """qshape's normalisation (qshape_table.h), for addresses postqueue -j prints."""
    a = address.lower() or "MAILER-DAEMON"
    if a == "mailer-daemon":
        a = "MAILER-DAEMON"
    a = a.rsplit("@", 1)[-1]
    while ".." in a:
        a = a.replace("..", ".")
    if len(a) >= 2 and a.startswith("."):
        a = a[1:]
    if len(a) >= 2 and a.endswith("."):
        a = a[:-1]
    return a


def parse(text):
    """{metric name: [(labels, value)]}, by the client library's parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def per(metrics, name, key):
    c = Counter()
    for labels, value in metrics.get(name, []):
        c[tuple(labels[k] for k in key)] += value
    return c


def expected(messages, senders=False):
    """From postqueue -j: messages, addresses per (queue, domain), oldest arrival per queue."""
    total, by_domain, oldest = Counter(), Counter(), {}
    for m in messages:
        q = m["queue_name"]
        total[q] += 1
        oldest[q] = min(oldest.get(q, m["arrival_time"]), m["arrival_time"])
        sender = "" if m["sender"] == "MAILER-DAEMON" else m["sender"]
        for a in [sender] if senders else [r["address"] for r in m["recipients"]]:
            by_domain[(q, domain_of(a))] += 1
    return total, by_domain, oldest


def check_whole_queue(inst, out, messages):
    if os.path.exists(out):
        os.unlink(out)
    with open(out, "w") as f:
        f.write("# the old file\nold_metric 1\n")
    p = inst.qpurge("--shape", "--all", "--format", "prometheus", "--top", "1000", "--output", out)
    check(p.returncode == 0 and p.stdout == "", f"--output: exit 0, nothing on stdout ({p.returncode}, {p.stderr[:300]})")
    text = open(out).read()
    check("old_metric" not in text and "# TYPE qpurge_queue_recipients gauge" in text, "the old file was replaced")
    check(stat.S_IMODE(os.stat(out).st_mode) == 0o644, "the file is world-readable (0644) for node_exporter")
    left = [n for n in os.listdir(os.path.dirname(out)) if n != os.path.basename(out)]
    check(left == [], f"no temporary file left beside it ({left})")
    m = parse(text)
    total, by_domain, oldest = expected(messages)
    now = time.time()
    got_total = per(m, "qpurge_queue_messages", ["queue"])
    got_domain = per(m, "qpurge_queue_recipients", ["queue", "domain"])
    for q in QUEUES:
        check(got_total[(q,)] == total[q], f"{q}: {int(got_total[(q,)])} messages, postqueue -j lists {total[q]}")
        want = sum(v for (qq, _), v in by_domain.items() if qq == q)
        got = sum(v for (qq, _), v in got_domain.items() if qq == q)
        check(got == want, f"{q}: {int(got)} pending recipients over all domains and ages, postqueue -j lists {want}")
        age = per(m, "qpurge_queue_oldest_seconds", ["queue"])[(q,)]
        want_age = now - oldest[q] if q in oldest else 0
        check(abs(age - want_age) <= 5, f"{q}: oldest {int(age)} s, postqueue -j says {int(want_age)} s")
        check(per(m, "qpurge_scan_unreadable_files", ["queue"])[(q,)] == 0, f"{q}: no unreadable file")
    check(dict(got_domain) == {k: float(v) for k, v in by_domain.items()},
          f"recipients per queue and domain equal postqueue -j's ({len(by_domain)} pairs)")
    ages = {labels["age"] for labels, _ in m["qpurge_queue_recipients"]}
    check("+Inf" in ages and "5" in ages and ages <= {"5", "10", "20", "40", "80", "160", "320", "640", "1280", "+Inf"},
          f"age labels are the table's upper bounds, +Inf for the last ({sorted(ages)})")


def check_top(inst, out, messages):
    _, by_domain, _ = expected(messages)
    per_domain = Counter()
    for (_, d), v in by_domain.items():
        per_domain[d] += v
    ranked = sorted(per_domain.items(), key=lambda kv: (-kv[1], kv[0]))
    inst.qpurge("--shape", "--all", "--format", "prometheus", "--top", "3", "--output", out)
    m = parse(open(out).read())
    got = per(m, "qpurge_queue_recipients", ["domain"])
    kept = {d for (d,) in got} - {"other"}
    check(kept == {d for d, _ in ranked[:3]}, f"--top 3 keeps {sorted(kept)}, the biggest by postqueue -j")
    check(got[("other",)] == sum(v for _, v in ranked[3:]),
          f"--top 3: domain=\"other\" sums the other {len(ranked) - 3} domains ({int(got[('other',)])})")
    check(sum(got.values()) == sum(per_domain.values()), "--top loses nothing")


def check_selections(inst, out, messages):
    inst.qpurge("--shape", "sender", "--all", "--format", "prometheus", "--top", "1000", "--output", out)
    m = parse(open(out).read())
    _, by_sender, _ = expected(messages, senders=True)
    check(dict(per(m, "qpurge_queue_sender_messages", ["queue", "domain"])) == {k: float(v) for k, v in by_sender.items()},
          "--shape sender: messages per queue and sender domain equal postqueue -j's")
    p = inst.qpurge("--shape", "--all", "--queue", "hold", "--format", "prometheus")
    m = parse(p.stdout)
    check({labels["queue"] for labels, _ in m["qpurge_queue_messages"]} == {"hold"},
          "--queue hold: only the hold queue, on standard output without --output")
    _, by_domain, _ = expected(messages)
    domain = sorted(d for (q, d) in by_domain if q == "deferred")[0]
    want = Counter(m["queue_name"] for m in messages
                   if any(domain_of(r["address"]) == domain for r in m["recipients"]))
    p = inst.qpurge("--shape", "--recipient-domain", domain, "--mixed", "include", "--format", "prometheus")
    got = per(parse(p.stdout), "qpurge_queue_messages", ["queue"])
    check(all(got[(q,)] == want[q] for q in QUEUES),
          f"--recipient-domain {domain}: the selection only ({dict(want)})")


def check_atomic(inst, out):
    """A reader polling the file while it is rewritten sees only whole files."""
    stop = threading.Event()
    seen = {"reads": 0, "bad": 0}

    def reader():
        while not stop.is_set():
            try:
                text = open(out).read()
            except FileNotFoundError:
                seen["bad"] += 1
                continue
            seen["reads"] += 1
            try:
                names = {f.name for f in text_string_to_metric_families(text)}
                if "qpurge_scan_unreadable_files" not in names:
                    seen["bad"] += 1
            except ValueError:
                seen["bad"] += 1

    t = threading.Thread(target=reader)
    t.start()
    for _ in range(30):
        inst.qpurge("--shape", "--all", "--format", "prometheus", "--output", out)
    stop.set()
    t.join()
    check(seen["reads"] > 30 and seen["bad"] == 0,
          f"30 rewrites under a reader: {seen['reads']} reads, {seen['bad']} partial or missing")
    check(os.listdir(os.path.dirname(out)) == [os.path.basename(out)], "no temporary file left after 30 rewrites")
    missing = os.path.join(os.path.dirname(out), "no-such-dir", "q.prom")
    p = inst.qpurge("--shape", "--all", "--format", "prometheus", "--output", missing)
    check(p.returncode == 2 and "cannot write the shape" in p.stderr and not os.path.exists(os.path.dirname(missing)),
          f"an output directory that does not exist: exit 2, said ({p.stderr.strip()[:200]})")


def check_usage(inst):
    for args, what in ((["--all", "--format", "prometheus"], "--format prometheus without --shape"),
                       (["--all", "--shape", "--top", "5"], "--top without --format prometheus"),
                       (["--all", "--dry-run", "--output", "/tmp/x"], "--output without --shape"),
                       (["--all", "--yes", "--output", "/tmp/x"], "--output on an acting run")):
        p = inst.qpurge(*args)
        check(p.returncode == 2 and "Try 'qpurge --help'" in p.stderr, f"{what}: exit 2 ({p.stderr.splitlines()[0]})")


def check_service_command(inst, out):
    unit = os.path.join(REPO, "packaging", "systemd", "qpurge-metrics.service")
    line = next(l for l in open(unit) if l.startswith("ExecStart="))
    argv = shlex.split(line[len("ExecStart="):])
    check(argv[0] == "/usr/sbin/qpurge", f"the service runs /usr/sbin/qpurge ({argv[0]})")
    argv = [QPURGE, "-c", inst.conf] + [out if a.endswith("/qpurge.prom") else a for a in argv[1:]]
    p = run(argv, check_rc=False)
    check(p.returncode == 0 and p.stderr == "" and "qpurge_queue_messages" in open(out).read(),
          f"the service's command line writes the metrics quietly ({p.returncode}, {p.stderr[:200]})")


def main():
    skip_unless_possible()
    with Instance("metrics") as inst:
        inst.fill(int(os.environ.get("QPURGE_IT_METRICS_COUNT", "400")), seed=15)
        inst.stop()
        aged = age_files(inst.spool, int(time.time()))
        check(aged > 50, f"{aged} files aged across the buckets")
        messages = inst.postqueue()
        queues = Counter(m["queue_name"] for m in messages)
        check(len(queues) >= 2, f"mail in several queues: {dict(queues)}")
        outdir = os.path.join(inst.root, "textfile")
        os.mkdir(outdir)
        out = os.path.join(outdir, "qpurge.prom")
        check_whole_queue(inst, out, messages)
        check_top(inst, out, messages)
        check_selections(inst, out, messages)
        check_atomic(inst, out)
        check_usage(inst)
        check_service_command(inst, out)
    finish()


if __name__ == "__main__":
    main()
