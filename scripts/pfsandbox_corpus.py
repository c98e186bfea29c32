# SPDX-License-Identifier: MIT
"""pfsandbox_corpus - the messages `pfsandbox fill` submits, drawn from a seed
without touching Postfix: jobs(count, seed, milter, smtpd) gives one dict per
message (kind, envelope sender and recipients, headers, size, SASL login,
HELO and client address, and what to do after delivery: hold, expire), and
message(job) the text that sendmail submits. The same arguments give the
same jobs: every random draw happens in jobs(), in one thread, in a fixed
order. Its kinds and their shares are described in pfsandbox's usage.
"""
import random

# example.com and the names a careless selector confuses with it.
LOOKALIKES = ["example.com", "EXAMPLE.COM", "Example.Com", "exAmple.COM", "notexample.com",
              "example.com.evil.net", "sub.example.com", "mail.Sub.Example.com", "example.co",
              "examplexcom.net", "example.org", "example.net"]
OTHERS = [f"{w}{i}.{t}" if i % 4 else f"{w.upper()}{i}.{t.upper()}"
          for i, (w, t) in enumerate((w, t) for w in
                                     ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell",
                                      "cyberdyne", "soylent", "wonka", "gringotts", "oceanic", "vandelay", "monarch")
                                     for t in ("com", "net", "de"))]
DOMAINS = LOOKALIKES + OTHERS
SENDER_DOMAINS = ["sender.example", "Sender.Example", "bulk.mailer.test", "NEWS.LETTER.TEST", "shop.test",
                  "notexample.com", "example.com", "Example.Com", "example.net", "sub.example.com"] + OTHERS[10:34]
NAMES = ["alice", "Bob", "carol", "DAVE", "eve", "frank", "Grace", "heidi", "ivan", "judy", "mallory", "oscar",
         "info", "NoReply", "billing"]
FROM_OTHER = ["Example Support <support@example.com>", "newsletter@EXAMPLE.COM",
              "\"Billing\" <billing@notexample.com>", "Security Team <security@sub.example.com>",
              "promo@example.com.evil.net"]
# From 40 messages on, the first ones are one of each kind, so that even a
# small corpus has them all; then kinds are drawn at random.
FIRST = ["null", "bounce", "dash-t", "done", "milter", "sasl-bob", "sasl-carol", "mixed", "lookalike",
         "hold", "hold-expire", "expire", "mixed", "bounce", "null", "sasl-bob", "milter", "hold"]


def _addr(rnd, domains):
    return f"{rnd.choice(NAMES)}{rnd.randint(1, 999)}@{rnd.choice(domains)}"


def body(i, size=0):
    text = (f"Hello,\n\nMessage {i}. Write to help@example.com or visit https://www.notexample.com/;\n"
            "our partners at sub.example.com and example.com.evil.net say hello.\n"
            "A grep of the queue file for a domain matches this text whatever the envelope says.\n\n-- \nthe sender\n")
    if size:
        line = "".join(chr(65 + (i + k) % 26) for k in range(76)) + "\n"
        text += line * (size // len(line))
    return text


def _pick(i, r, count, large_at):
    if i in large_at:
        return "large"
    if count >= 40 and i < len(FIRST):
        return FIRST[i]
    for limit, kind in ((0.05, "null"), (0.08, "bounce"), (0.14, "dash-t"), (0.19, "done"), (0.25, "milter"),
                        (0.28, "sasl"), (0.40, "mixed"), (0.50, "lookalike")):
        if r < limit:
            return kind
    return "plain"


def _shape(j, kind, rnd):
    """Gives job j what its kind needs; returns the kind ("sasl-bob" is "sasl")."""
    i = j["i"]
    if kind == "large":
        j["size"] = rnd.choice([2, 3, 4]) * 1024 * 1024
    elif kind == "null":
        j["sender"] = ""
        j["subject"] = f"Undelivered Mail Returned to Sender ({i})"
    elif kind == "bounce":
        j["rcpts"] = [f"ghost{i}@mx.test.invalid"]
    elif kind == "dash-t":
        if len(j["rcpts"]) > 1 or rnd.random() < 0.5:
            j["cc"] = [_addr(rnd, DOMAINS)]
    elif kind == "done":
        j["rcpts"] = ["root@mx.test.invalid"] + j["rcpts"]
    elif kind == "milter":
        j["subject"] = f"[milter] message {i}"
        j["rcpts"] = j["rcpts"] + [f"del{i}@{rnd.choice(DOMAINS)}"]
        j["extra"] = ["X-Remove-Me: please"]
    elif kind.startswith("sasl"):
        j["user"] = kind[5:] or ("bob" if rnd.random() < 0.85 else "carol")
        kind = "sasl"
        j["helo"] = rnd.choice(["client1.test.invalid", "client2.test.invalid", "[192.0.2.7]", "laptop",
                                "mail.example.com", "EXAMPLE.COM"])
        j["client"] = f"127.0.0.{rnd.randint(1, 9)}"
    elif kind == "mixed":
        # mixed domains, one of them example.com in some case
        j["rcpts"] = [_addr(rnd, LOOKALIKES[:4])] + [_addr(rnd, DOMAINS[4:]) for _ in range(rnd.randint(1, 3))]
    elif kind == "lookalike":
        j["rcpts"] = [_addr(rnd, LOOKALIKES)]
    elif kind in ("hold", "hold-expire", "expire"):
        j["after"] = kind
    return kind


def _job(i, kind, rnd, milter, smtpd):
    if kind == "milter" and not milter or kind.startswith("sasl") and not smtpd:
        kind = "plain"
    j = dict(i=i, kind=kind, sender=_addr(rnd, SENDER_DOMAINS), rcpts=[], cc=[], subject=f"message {i} for you",
             extra=[], size=0, frm="", user="", helo="", client="", after="")
    j["rcpts"] = [_addr(rnd, DOMAINS) for _ in range(rnd.choice([1, 1, 1, 1, 2, 3]))]
    kind = j["kind"] = _shape(j, kind, rnd)
    if kind in ("plain", "mixed", "lookalike") and not j["after"]:
        # held, and force-expired in hold or (still queue only) in deferred;
        # found again after the first delivery attempt by sender and recipients
        r2 = rnd.random()
        j["after"] = "hold-expire" if r2 < 0.01 else "hold" if r2 < 0.03 else "expire" if r2 < 0.035 else ""
    j["frm"] = j["sender"] or "MAILER-DAEMON@mx.test.invalid"
    if rnd.random() < 0.4:
        j["frm"] = rnd.choice(FROM_OTHER)
    return j


def jobs(count, seed, milter, smtpd):
    """The corpus: one dict per message to submit. Every random draw happens
    here, in one thread, so one seed gives the same jobs whatever the
    submitters' timing. milter and smtpd: whether the instance has them."""
    rnd = random.Random(seed)
    # a few large messages: one per 300 (none below 300, at most 8)
    large_at = set(rnd.sample(range(count), min(8, count // 300)))
    return [_job(i, _pick(i, rnd.random(), count, large_at), rnd, milter, smtpd) for i in range(count)]


def message(j):
    """The text that sendmail submits for job j (headers, blank line, body)."""
    h = [f"From: {j['frm']}", "Reply-To: replies@example.com", f"Subject: {j['subject']}",
         "To: " + ", ".join(j["rcpts"])]
    if j["cc"]:
        h.append("Cc: " + ", ".join(j["cc"]))
    return "\n".join(h + j["extra"]) + "\n\n" + body(j["i"], j["size"])
