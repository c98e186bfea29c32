#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Content selection (issue 14) on a real instance: messages submitted
through sendmail and through smtpd (smtplib with SASL AUTH), deferred and
left in the queue, each under a tag. The selections each option must make
are written down below from the messages as they were submitted (TAGS ->
queue IDs from the submission), never from qpurge's output, and checked
against postqueue -j. Then one real purge with --body (and --archive):
postqueue -j must show exactly the expected messages gone.

Messages:
  b64     text/plain, base64, the phishing URL in the body          (sendmail)
  qp      text/plain, quoted-printable, the URL cut by a soft break   (smtpd)
  alt     multipart/alternative, the URL only in the text/html part   (smtpd)
  zip     multipart/mixed > multipart/alternative + a zip attachment whose
          name is RFC 2231 encoded ("rechnung ä.zip"); no URL            (sendmail)
  sb8     Subject =?UTF-8?B?...?=        "Grüße vom Konto"             (sendmail)
  sq8     Subject =?UTF-8?Q?...?=        "Grüße vom Konto"             (smtpd)
  sb1     Subject =?ISO-8859-1?B?...?=   "Grüße vom Konto"             (smtpd)
  sq1     Subject =?ISO-8859-1?Q?...?=   "Grüße vom Konto"             (sendmail)
  hdr     the URL only in a header (X-Campaign)                        (sendmail)
  bin     the URL only inside a base64 application/octet-stream part   (smtpd)
  mil     the URL in the body the test Milter replaces (pointer records);
          the Milter also changes the Subject and adds a recipient     (sendmail)
  two     two recipients, nothing else special                         (sendmail)

and for issue 19 (items 12 and 13):
  pad     Subject and attachment name in two base64 words, the first ending
          in padding: "abcd.pdf", not GMime's "ab"                  (sendmail)
  dup     two Subject headers, MIME: either one selects, with --body or not
                                                                       (smtpd)
  names   Content-Type name="invoice.exe", Content-Disposition
          filename="invoice.pdf": either name counts                  (sendmail)
  hdronly a Content-Type and no body at all (RFC 5322 allows it): a message
          with an empty body, not "truncated or malformed"            (sendmail)
  long    4 KB of text, no attachment                                  (sendmail)
  longzip 4 KB of text, then a zip: with --body-limit 1k the text is cut, the
          attachments are still decided                               (smtpd)
A dry run that selects nothing while a message is undecided exits 3, as the
acting run does.
"""
import base64
import json
import os
import re
import smtplib
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Instance, check, finish, run, skip_unless_possible  # noqa: E402

PORT = "2531"
URL = "https://login.example-bank.top/verify?id=42"
URL_RE = r"login\.example-bank\.top"
SUBJECT = "Grüße vom Konto"


def headers(tag, extra):
    return f"From: Bank <spam@{tag}.example>\nTo: victim@far.example\nMessage-ID: <{tag}@qpurge.test>\n{extra}"


def b64lines(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))


def messages():
    m = {}
    m["b64"] = headers("b64", "Subject: your account\nMIME-Version: 1.0\n"
                       "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n") + \
        "\n" + b64lines(f"Dear customer,\nplease log in at {URL} today.\n".encode()) + "\n"
    m["qp"] = headers("qp", "Subject: your account\nMIME-Version: 1.0\n"
                      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n") + \
        "\nPlease log in at https://login.example-=\nbank=2Etop/verify=3Fid=3D42 now.\nGr=C3=BC=C3=9Fe\n"
    m["alt"] = headers("alt", "Subject: your account\nMIME-Version: 1.0\n"
                       "Content-Type: multipart/alternative; boundary=\"ALT\"\n") + \
        "\n--ALT\nContent-Type: text/plain; charset=us-ascii\n\nPlease log in at our web site.\n" \
        "--ALT\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" \
        f"<p>Please <a href=3D\"{URL}\">log in</a>.</p>\n--ALT--\n"
    zipdata = b"PK\x03\x04" + bytes(range(256)) * 4
    m["zip"] = headers("zip", "Subject: invoice\nMIME-Version: 1.0\n"
                       "Content-Type: multipart/mixed; boundary=\"MIX\"\n") + \
        "\n--MIX\nContent-Type: multipart/alternative; boundary=\"ALT2\"\n\n" \
        "--ALT2\nContent-Type: text/plain\n\nSee the attached invoice.\n" \
        "--ALT2\nContent-Type: text/html\n\n<p>See the attached invoice.</p>\n--ALT2--\n" \
        "--MIX\nContent-Type: application/zip\nContent-Transfer-Encoding: base64\n" \
        "Content-Disposition: attachment; filename*=UTF-8''rechnung%20%C3%A4.zip\n\n" + \
        b64lines(zipdata) + "\n--MIX--\n"
    subjects = {
        "sb8": "=?UTF-8?B?" + base64.b64encode(SUBJECT.encode()).decode() + "?=",
        "sq8": "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_vom_Konto?=",
        "sb1": "=?ISO-8859-1?B?" + base64.b64encode(SUBJECT.encode("latin-1")).decode() + "?=",
        "sq1": "=?ISO-8859-1?Q?Gr=FC=DFe_vom_Konto?=",
    }
    for tag, subject in subjects.items():
        m[tag] = headers(tag, f"Subject: {subject}\n") + "\nHello.\n"
    m["hdr"] = headers("hdr", f"Subject: news\nX-Campaign: {URL}\n") + "\nNothing to click here.\n"
    m["bin"] = headers("bin", "Subject: data\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n") + \
        "\n--B\nContent-Type: text/plain\n\nThe data is attached.\n" \
        "--B\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n" \
        "Content-Disposition: attachment; filename=\"data.bin\"\n\n" + \
        b64lines(b"\x00\x01binary " + URL.encode() + b" \xff\xfe") + "\n--B--\n"
    m["mil"] = headers("mil", "Subject: [milter] edit me\n") + f"\nThe original body had {URL}\n"
    m["two"] = headers("two", "Subject: two\n") + "\nTwo recipients.\n"
    padded = "=?UTF-8?B?YWI=?= =?UTF-8?B?Y2QucGRm?="
    m["pad"] = headers("pad", f"Subject: {padded}\nMIME-Version: 1.0\n"
                       "Content-Type: multipart/mixed; boundary=\"PAD\"\n") + \
        "\n--PAD\nContent-Type: text/plain\n\nThe document.\n" \
        f"--PAD\nContent-Type: application/pdf;\n name=\"{padded}\"\n" \
        f"Content-Disposition: attachment;\n filename=\"{padded}\"\nContent-Transfer-Encoding: base64\n\n" \
        "JVBERi0xLjQK\n--PAD--\n"
    m["dup"] = headers("dup", "Subject: Your parcel\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                       "Subject: =?UTF-8?Q?Gewinnbenachrichtigung?=\n") + "\nYou have won.\n"
    m["names"] = headers("names", "Subject: invoice\nMIME-Version: 1.0\n"
                         "Content-Type: multipart/mixed; boundary=\"NM\"\n") + \
        "\n--NM\nContent-Type: text/plain\n\nSee the invoice.\n" \
        "--NM\nContent-Type: application/octet-stream; name=\"invoice.exe\"\n" \
        "Content-Disposition: attachment; filename=\"invoice.pdf\"\nContent-Transfer-Encoding: base64\n\n" \
        "TVqQAAMAAAAEAAAA\n--NM--\n"
    m["hdronly"] = headers("hdronly", "Subject: ping\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n")
    text = "\n".join(f"line {i:03} of a long newsletter text, nothing to see here" for i in range(70)) + "\n"
    m["long"] = headers("long", "Subject: newsletter\nMIME-Version: 1.0\n"
                        "Content-Type: multipart/mixed; boundary=\"LNG\"\n") + \
        f"\n--LNG\nContent-Type: text/plain\n\n{text}--LNG--\n"
    m["longzip"] = headers("longzip", "Subject: newsletter\nMIME-Version: 1.0\n"
                           "Content-Type: multipart/mixed; boundary=\"LNG\"\n") + \
        f"\n--LNG\nContent-Type: text/plain\n\n{text}" \
        "--LNG\nContent-Type: application/zip\nContent-Disposition: attachment; filename=\"news.zip\"\n" \
        "Content-Transfer-Encoding: base64\n\nUEsDBA==\n--LNG--\n"
    return m


SMTPD = {"qp", "alt", "sq8", "sb1", "bin", "dup", "longzip"}


def wait_new(inst, before):
    for _ in range(200):
        inst.settle()
        new = inst.ids() - before
        if new:
            return new.pop()
        time.sleep(0.1)
    raise RuntimeError("message did not arrive")


def submit(inst, tag, text):
    before = inst.ids()
    rcpts = ["victim@far.example", "second@far.example"] if tag == "two" else ["victim@far.example"]
    if tag in SMTPD:
        with smtplib.SMTP("127.0.0.1", int(PORT)) as s:
            s.login("bob@mx.test.invalid", "secret")
            s.mail(f"spam@{tag}.example")
            for r in rcpts:
                s.rcpt(r)
            code, reply = s.data(text.encode())
            m = re.search(rb"queued as (\w+)", reply)
            if code == 250 and m:
                inst.settle()
                return m.group(1).decode()
    else:
        run(["sendmail", "-C", inst.conf, "-f", f"spam@{tag}.example", *rcpts], input=text)
    return wait_new(inst, before)


def selected(inst, *args, stdin=None):
    p = inst.qpurge(*args, "--dry-run", "--format", "ids", input=stdin)
    return set(p.stdout.split()), p


def issue19_statuses(inst, ids):
    """Decided is decided: no 'undecided', and the exit status says so."""
    runs = [
        (["--attachment", "*.txt"], 1, "--attachment on every message, past any text: nothing, decided"),
        (["--attachment-type", "application/zip", "--body", ".", "--body-limit", "1k"], 0,
         "--attachment-type with --body cut: selected, decided"),
        (["--sender-domain", "hdronly.example", "--attachment", "*"], 1, "header-only: nothing attached, decided"),
        (["--subject", "gewinn", "--body", "won"], 0, "two Subjects with --body: decided"),
    ]
    for args, want, label in runs:
        p = inst.qpurge(*args, "--dry-run")
        check(p.returncode == want and "undecided" not in p.stderr and "truncated or malformed" not in p.stderr,
              f"{label}: exit {want} ({p.returncode}; {p.stderr.strip()[-300:]})")
    # Nothing selected, but --body could not see all of the long text: 3 on
    # a dry run, as on the acting run in the same state (which acts on nothing).
    p = inst.qpurge("--body", "no such words", "--body-limit", "1k", "--dry-run")
    check(p.returncode == 3 and "undecided 2" in p.stdout + p.stderr,
          f"a dry run that selects nothing with undecided messages: exit 3 ({p.returncode})")
    before = {m["queue_id"]: m["queue_name"] for m in inst.postqueue()}
    p = inst.qpurge("--body", "no such words", "--body-limit", "1k", "--action", "hold", "--yes")
    after = {m["queue_id"]: m["queue_name"] for m in inst.postqueue()}
    check(p.returncode == 3 and after == before, f"its acting twin: exit 3, nothing changed ({p.returncode})")


def main():
    skip_unless_possible()
    with Instance("content", milter=True, smtpd_port=PORT) as inst:
        ids = {tag: submit(inst, tag, text) for tag, text in messages().items()}
        time.sleep(1)
        inst.settle()
        queue = {m["queue_id"]: m for m in inst.postqueue()}
        check(set(ids.values()) <= set(queue) and all(queue[i]["queue_name"] == "deferred" for i in ids.values()),
              f"all {len(ids)} submitted messages are deferred in postqueue -j")

        def tags(*names):
            return {ids[n] for n in names}

        subjects = ("sb8", "sq8", "sb1", "sq1")
        cases = [
            ("--body URL: decoded base64, quoted-printable and the HTML part only",
             ["--body", URL_RE], tags("b64", "qp", "alt")),
            ("--body in any ASCII case", ["--body", "LOGIN\\.EXAMPLE-BANK\\.TOP"], tags("b64", "qp", "alt")),
            ("--body sees the Milter's new body", ["--body", "replaced by the test milter"], tags("mil")),
            ("--body decodes charsets (quoted-printable UTF-8)", ["--body", "Grüße"], tags("qp")),
            ("--subject: B and Q, ISO-8859-1 and UTF-8", ["--subject", "^grüße vom konto$"], tags(*subjects)),
            ("--subject sees the Milter's changed Subject", ["--subject", "changed by the test milter"], tags("mil")),
            ("--header raw does not decode", ["--header", "Subject: Grüße"], set()),
            ("--header --decode-headers decodes", ["--header", "Subject: Grüße", "--decode-headers"], tags(*subjects)),
            ("--header finds the URL only in a header", ["--header", f"X-Campaign: {URL_RE}"], tags("hdr")),
            ("--attachment with an RFC 2231 name", ["--attachment", "RECHNUNG ä.zip"], tags("zip")),
            ("--attachment glob", ["--attachment", "*.zip", "--attachment", "*.bin"], tags("zip", "bin", "longzip")),
            ("--attachment-type exact", ["--attachment-type", "application/zip"], tags("zip", "longzip")),
            ("--attachment-type family", ["--attachment-type", "application/*"],
             tags("zip", "bin", "pad", "names", "longzip")),
            ("--message-id with or without brackets", ["--message-id", "<b64@qpurge.test>", "--message-id",
                                                       "hdr@qpurge.test"], tags("b64", "hdr")),
            # The test Milter adds a recipient to the message it edits.
            ("--min-recipients 2", ["--min-recipients", "2"], tags("two", "mil")),
            ("--max-recipients 1", ["--max-recipients", "1", "--sender-domain", ".example"],
             set(ids.values()) - tags("two", "mil")),
            ("AND across options", ["--body", URL_RE, "--sender-domain", "qp.example"], tags("qp")),
            ("--exclude-body with --all", ["--all", "--exclude-body", URL_RE],
             set(ids.values()) - tags("b64", "qp", "alt")),
            ("--exclude-subject", ["--sender-domain", ".example", "--exclude-subject", "grüße"],
             set(ids.values()) - tags(*subjects)),
            ("--id", ["--id", ids["b64"], "--id", ids["zip"]], tags("b64", "zip")),
            # Issue 19: encoded words one by one, in the Subject and in file names.
            ("--subject: base64 words after one ending in padding", ["--subject", "^abcd\\.pdf$"], tags("pad")),
            ("--attachment: a name in base64 words", ["--attachment", "abcd.pdf"], tags("pad")),
            ("--header --decode-headers: the same decoder", ["--header", "Subject: ^abcd\\.pdf$", "--decode-headers"],
             tags("pad")),
            # Every Subject header counts, whatever else is asked.
            ("--subject: the first of two Subjects", ["--subject", "^your parcel$"], tags("dup")),
            ("--subject: the second of two Subjects", ["--subject", "gewinn"], tags("dup")),
            ("--subject with --body: the same rule", ["--subject", "gewinn", "--body", "won"], tags("dup")),
            ("--exclude-subject: either Subject excludes",
             ["--sender-domain", "dup.example", "--sender-domain", "two.example", "--exclude-subject", "gewinn"],
             tags("two")),
            # A name in either header.
            ("--attachment: the Content-Type name", ["--attachment", "*.exe"], tags("names")),
            ("--attachment: the Content-Disposition filename", ["--attachment", "invoice.pdf"], tags("names")),
            ("--exclude-attachment: either name excludes",
             ["--sender-domain", "names.example", "--sender-domain", "two.example", "--exclude-attachment", "*.exe"],
             tags("two")),
            # A header-only message is decided: no attachment, no text.
            ("header-only: decided by an exclusion", ["--sender-domain", "hdronly.example",
                                                      "--exclude-attachment-type", "application/*"], tags("hdronly")),
            ("header-only: --body finds nothing in it", ["--sender-domain", "hdronly.example", "--body", "."], set()),
            # The structure is decided past --body-limit.
            ("--attachment-type with --body cut at --body-limit",
             ["--attachment-type", "application/zip", "--body", ".", "--body-limit", "1k"], tags("zip", "longzip")),
        ]
        for label, args, want in cases:
            got, p = selected(inst, *args)
            check(got == want and want <= set(queue), f"{label}: {sorted(want)} (got {sorted(got)})")
        issue19_statuses(inst, ids)
        got, _ = selected(inst, "--ids-from", "-", stdin=f"# two of them\n{ids['hdr']}\n\n{ids['bin']}\n")
        check(got == tags("hdr", "bin"), "--ids-from - reads IDs from standard input")
        p = inst.qpurge("--ids-from", "-", "--dry-run", input="NOT-AN-ID\n")
        check(p.returncode == 2 and "not a queue ID" in p.stderr, f"a malformed ID is a usage error (exit {p.returncode})")

        # --detail: the decoded subject and the attachments.
        p = inst.qpurge("--id", ids["sq1"], "--id", ids["zip"], "--dry-run", "--format", "json", "--detail")
        by_id = {j["queue_id"]: j for j in map(json.loads, p.stdout.splitlines()) if "queue_id" in j}
        check(by_id.get(ids["sq1"], {}).get("subject") == SUBJECT, "JSON --detail: Subject decoded from ISO-8859-1 Q")
        atts = by_id.get(ids["zip"], {}).get("attachments") or []
        check({"filename": "rechnung ä.zip", "type": "application/zip"} in atts,
              f"JSON --detail: the zip attachment with its decoded name ({atts})")

        # --explain names the cut; a cut message is counted.
        p = inst.qpurge("--body", URL_RE, "--body-limit", "20b", "--dry-run", "--explain")
        check("content cut at the limit" in p.stdout and "cut at --body-limit (20 bytes" in p.stderr,
              "--body-limit 20: the cut messages are counted and named")
        p = inst.qpurge("--body", URL_RE, "--older-than", "0s", "--shape", "sender")
        check(p.returncode == 0 and "b64.example" in p.stdout and "hdr.example" not in p.stdout,
              "--shape sender of a --body selection")

        # The plan keeps --body; then one real purge with --body and --archive.
        plan = os.path.join(inst.root, "plan.json")
        p = inst.qpurge("--body", URL_RE, "--save-plan", plan)
        with open(plan) as f:
            saved = [json.loads(line) for line in f.read().splitlines()]  # the header, one message a line
        check([c["option"] for c in saved[0]["criteria"]] == ["--body"] and saved[0]["messages"] == 3 and
              len(saved) == 4,
              "the saved plan holds --body and its three messages")
        before = inst.ids()
        archive = os.path.join(inst.root, "archive")
        os.mkdir(archive)
        p = inst.qpurge("--apply-plan", plan, "--archive", archive, "--yes")
        after = inst.ids()
        check(p.returncode == 0, f"--apply-plan of the --body plan: exit 0 ({p.stderr.strip()[-300:]})")
        check(before - after == tags("b64", "qp", "alt"), "postqueue -j: exactly b64, qp and alt are gone")
        check(len(os.listdir(archive)) == 1, "one archive run was made")
        p = inst.qpurge("--body", URL_RE, "--yes")
        check(p.returncode == 1 and inst.ids() == after, "a second --body purge finds nothing and changes nothing")
    finish()


if __name__ == "__main__":
    main()
