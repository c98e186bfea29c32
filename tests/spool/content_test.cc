// SPDX-License-Identifier: MIT
// content_test.cc - the content reader (content.h), its MIME decoding
// (mime.h) and the content criteria (content_match.h), on queue files made
// like cleanup makes them and on the real Milter-edited file
// tests/data/queue/milter.qf.
#include "qpurge/spool/content.h"

#include <gtest/gtest.h>

#include "qpurge/select/content_match.h"
#include "qpurge/select/mime.h"
#include "qpurge/spool/queue_file.h"
#include "support/content_reads.h"
#include "support/files.h"
#include "support/queue_writer.h"

namespace qpurge {
namespace {

using testing::slurp;

// Content records alone, read from offset 0: what a file holds after its M record.
std::string records(std::initializer_list<std::pair<char, std::string>> list) {
  std::string out;
  for (const auto& [type, payload] : list) append_record(out, type, payload);
  return out;
}

bool read_raw(const std::string& bytes, ContentNeed need, std::size_t limit, RawContent& out, std::string& error) {
  MemorySource source(bytes);
  RecordReader reader;
  reader.reset(&source);
  return read_content(source, reader, 0, need, limit, out, error);
}

// --- The record reader ---------------------------------------------------

TEST(ContentTest, ReadsHeadersAndBodyAsLines) {
  Read r;
  read_file(write_queue_file(mail({"Subject: hi", "From: a@b.example"}, {"line one", "", "line three"})), r);
  EXPECT_EQ(r.msg.content.text, "Subject: hi\nFrom: a@b.example\n\nline one\n\nline three\n");
  EXPECT_FALSE(r.msg.content.truncated);
}

TEST(ContentTest, HeadersOnlyStopsAtTheFirstEmptyLine) {
  Read r;
  read_file(write_queue_file(mail({"Subject: hi"}, {"body text"})), r, ContentNeed::kHeaders);
  EXPECT_EQ(r.msg.content.text, "Subject: hi\n\n");
}

TEST(ContentTest, JoinsPartialLinesAndSkipsPadding) {
  RawContent raw;
  std::string error;
  ASSERT_TRUE(read_raw(records({{'N', "Subject: x"},
                                {'N', ""},
                                {'L', "a long "},
                                {'w', "junk"},
                                {'L', "line "},
                                {'N', "ends"},
                                {'N', "next"},
                                {'X', ""}}),
                       ContentNeed::kBody, 1000, raw, error))
      << error;
  EXPECT_EQ(raw.text, "Subject: x\n\na long line ends\nnext\n");
}

TEST(ContentTest, AnEmptyPartialRecordDoesNotEndTheHeaders) {
  RawContent raw;
  std::string error;
  // "L abc" then an empty N: the N finishes the line "abc", it is no empty line.
  ASSERT_TRUE(
      read_raw(records({{'L', "X-A: abc"}, {'N', ""}, {'N', "Subject: y"}, {'N', ""}, {'N', "body"}, {'X', ""}}),
               ContentNeed::kHeaders, 1000, raw, error));
  EXPECT_EQ(raw.text, "X-A: abc\nSubject: y\n\n");
}

TEST(ContentTest, StopsAtTheLimitAndSaysSo) {
  RawContent raw;
  std::string error;
  ASSERT_TRUE(read_raw(records({{'N', "0123456789"}, {'N', "abcdef"}, {'X', ""}}), ContentNeed::kBody, 14, raw, error));
  EXPECT_EQ(raw.text, "0123456789\nabc");
  EXPECT_TRUE(raw.truncated);
}

TEST(ContentTest, RejectsARecordThatIsNotContent) {
  RawContent raw;
  std::string error;
  EXPECT_FALSE(
      read_raw(records({{'N', "Subject: x"}, {'R', "a@b.example"}, {'X', ""}}), ContentNeed::kBody, 1000, raw, error));
  EXPECT_EQ(error, "unexpected record type 'R' in message content at offset 12");
}

TEST(ContentTest, RejectsAPointerLoop) {
  std::string bytes;
  append_record(bytes, 'N', "Subject: x");
  append_record(bytes, 'p', "12");  // to itself
  RawContent raw;
  std::string error;
  EXPECT_FALSE(read_raw(bytes, ContentNeed::kBody, 1000, raw, error));
  EXPECT_EQ(error, "pointer loop: too many backward jumps at offset 12");
}

TEST(ContentTest, RejectsAPointerPastTheEnd) {
  std::string bytes = records({{'N', "Subject: x"}, {'p', "        4000"}});
  RawContent raw;
  std::string error;
  EXPECT_FALSE(read_raw(bytes, ContentNeed::kBody, 1000, raw, error));
  EXPECT_EQ(error, "pointer 4000 past end of file at offset 12");
}

TEST(ContentTest, ABrokenContentLeavesTheEnvelopeParsed) {
  // Postfix passes over the content with the size record; so does the
  // envelope parse. Only what needs the content learns that it is broken.
  std::string file = write_queue_file(mail({"Subject: hi"}, {"body"}));
  std::size_t pos = file.find("body");
  ASSERT_NE(pos, std::string::npos);
  file[pos - 2] = 'R';  // the type byte of the body's N record
  MemorySource source(file);
  RecordReader reader;
  Message msg;
  ParseOptions options;
  options.content = ContentNeed::kBody;
  std::string error;
  ASSERT_TRUE(parse_queue_file(source, reader, msg, error, options)) << error;
  EXPECT_FALSE(msg.has_content);
  EXPECT_NE(msg.content_error.find("unexpected record type 'R' in message content"), std::string::npos)
      << msg.content_error;
}

TEST(ContentTest, NotReadUnlessAskedFor) {
  std::string file = write_queue_file(mail({"Subject: hi"}, {"body"}));
  MemorySource source(file);
  RecordReader reader;
  Message msg;
  std::string error;
  ASSERT_TRUE(parse_queue_file(source, reader, msg, error));
  EXPECT_FALSE(msg.has_content);
  EXPECT_TRUE(msg.content.text.empty());
  EXPECT_GT(msg.content_offset, 0u);
}

// tests/data/queue/milter.qf: the test Milter inserted, changed and deleted
// headers and replaced the body; all of it lives in the heap after E and is
// reached only through pointers (see milter.postcat).
TEST(ContentTest, FollowsPointersThroughAMilterEditedFile) {
  Read r;
  read_file(slurp(std::string(QPURGE_TEST_DATA) + "/queue/milter.qf"), r);
  EXPECT_EQ(r.msg.content.text,
            "X-Milter-Inserted: first header now\n"
            "Received: by mx.test.invalid (Postfix, from userid 0)\n"
            "\tid 2F138A766A6; Sun, 22 Nov 2026 12:20:05 +0000 (UTC)\n"
            "Subject: [milter] subject changed by the test milter\n"
            "Message-Id: <20261122122005.2F138A766A6@mx.test.invalid>\n"
            "Date: Sun, 22 Nov 2026 12:20:05 +0000 (UTC)\n"
            "From: root <original@sender.example>\n"
            "X-Milter-Added: yes\n"
            "\n"
            "The body was replaced by the test milter.\n"
            "It mentions example.com too.\n");
  ASSERT_TRUE(r.content.parsed) << r.content.error;
  EXPECT_EQ(r.content.subject, "[milter] subject changed by the test milter");
  EXPECT_EQ(r.content.message_id, "20261122122005.2F138A766A6@mx.test.invalid");
  EXPECT_EQ(test(*make_body("replaced by the test milter"), r), Truth::kYes);
  // What the Milter removed is not in the message Postfix delivers.
  EXPECT_EQ(test(*make_body("original body"), r), Truth::kNo);
  EXPECT_EQ(test(*make_subject("edit me"), r), Truth::kNo);
  EXPECT_EQ(test(*make_subject("^\\[milter\\] subject changed"), r), Truth::kYes);
  EXPECT_EQ(test(*make_message_id("<20261122122005.2F138A766A6@mx.test.invalid>"), r), Truth::kYes);
}

// --- MIME ---------------------------------------------------------------

TEST(MimeTest, DecodesABase64Body) {
  Read r;
  read_file(write_queue_file(mail({"Subject: prize", "MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii",
                                   "Content-Transfer-Encoding: base64"},
                                  {"VmlzaXQgaHR0cDovL3NwYW0uZXhhbXBsZS9ub3cgZm9yIGEgcHJpemUNCg=="})),
            r);
  ASSERT_TRUE(r.content.parsed) << r.content.error;
  ASSERT_EQ(r.content.texts.size(), 1u);
  EXPECT_NE(r.content.texts[0].find("Visit http://spam.example/now for a prize"), std::string::npos);
  EXPECT_EQ(test(*make_body("http://spam\\.example/now"), r), Truth::kYes);
  EXPECT_EQ(test(*make_body("VmlzaXQ"), r), Truth::kNo);  // the encoded form is not the text
  EXPECT_TRUE(r.content.attachments.empty());
}

TEST(MimeTest, DecodesQuotedPrintableAndConvertsTheCharset) {
  Read r;
  read_file(write_queue_file(mail({"Subject: qp", "MIME-Version: 1.0", "Content-Type: text/plain; charset=ISO-8859-1",
                                   "Content-Transfer-Encoding: quoted-printable"},
                                  {"Prix sp=E9cial: http://spam.ex=", "ample/offre"})),
            r);
  ASSERT_TRUE(r.content.parsed) << r.content.error;
  ASSERT_EQ(r.content.texts.size(), 1u);
  EXPECT_EQ(r.content.texts[0],
            "Prix sp\xc3\xa9"
            "cial: http://spam.example/offre\n");
  EXPECT_EQ(test(*make_body("sp\xc3\xa9"
                            "cial"),
                 r),
            Truth::kYes);
  EXPECT_EQ(test(*make_body("spam\\.example/offre"), r), Truth::kYes);  // soft line break undone
}

TEST(MimeTest, AlternativeWithTheUrlOnlyInTheHtmlPart) {
  Read r;
  read_file(write_queue_file(
                mail({"Subject: alt", "MIME-Version: 1.0", "Content-Type: multipart/alternative; boundary=\"b1\""},
                     {"--b1", "Content-Type: text/plain; charset=utf-8", "", "Click the link.", "--b1",
                      "Content-Type: text/html; charset=utf-8", "", "<a href=\"http://html-only.example/x\">Click</a>",
                      "--b1--"})),
            r);
  ASSERT_TRUE(r.content.parsed) << r.content.error;
  ASSERT_EQ(r.content.texts.size(), 2u);
  EXPECT_EQ(r.content.texts[0], "Click the link.");  // the line break before a boundary is the boundary's
  EXPECT_NE(r.content.texts[1].find("<a href=\"http://html-only.example/x\">"), std::string::npos);
  EXPECT_EQ(test(*make_body("html-only\\.example"), r), Truth::kYes);
  EXPECT_TRUE(r.content.attachments.empty());
}

SyntheticMessage zip_message() {
  return mail({"Subject: =?UTF-8?B?R3LDtsOfZQ==?= invoice", "MIME-Version: 1.0",
               "Content-Type: multipart/mixed; boundary=\"outer\""},
              {"This is a multi-part message.",
               "--outer",
               "Content-Type: multipart/alternative; boundary=\"inner\"",
               "",
               "--inner",
               "Content-Type: text/plain; charset=utf-8",
               "",
               "Please see the invoice.",
               "--inner",
               "Content-Type: text/html; charset=utf-8",
               "",
               "<p>Please see the invoice.</p>",
               "--inner--",
               "",
               "--outer",
               "Content-Type: application/zip",
               "Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.ZIP",
               "Content-Transfer-Encoding: base64",
               "",
               "UEsDBCBodHRwOi8vaGlkZGVuLmV4YW1wbGUvcGF5bG9hZCBpbiBhIHppcA==",
               "--outer",
               "Content-Type: image/png; name=\"logo.png\"",
               "Content-Transfer-Encoding: base64",
               "",
               "iVBORw0KGgo=",
               "--outer--"});
}

TEST(MimeTest, NestedMultipartWithAnRfc2231NamedZip) {
  Read r;
  read_file(write_queue_file(zip_message()), r);
  ASSERT_TRUE(r.content.parsed) << r.content.error;
  EXPECT_EQ(r.content.subject,
            "Gr\xc3\xb6\xc3\x9f"
            "e invoice");
  ASSERT_EQ(r.content.texts.size(), 2u);
  ASSERT_EQ(r.content.attachments.size(), 2u);
  EXPECT_EQ(r.content.attachments[0].filename, "Rechnung M\xc3\xa4rz.ZIP");
  EXPECT_EQ(r.content.attachments[0].type, "application/zip");
  EXPECT_EQ(r.content.attachments[1].filename, "logo.png");  // Content-Type name=
  EXPECT_EQ(r.content.attachments[1].type, "image/png");

  EXPECT_EQ(test(*make_attachment("*.zip"), r), Truth::kYes);  // any case
  EXPECT_EQ(test(*make_attachment("rechnung m\xc3\xa4rz.*"), r), Truth::kYes);
  EXPECT_EQ(test(*make_attachment("*.exe"), r), Truth::kNo);
  EXPECT_EQ(test(*make_attachment_type("application/zip"), r), Truth::kYes);
  EXPECT_EQ(test(*make_attachment_type("Image/*"), r), Truth::kYes);
  EXPECT_EQ(test(*make_attachment_type("application/pdf"), r), Truth::kNo);
  EXPECT_EQ(test(*make_attachment_type("video/*"), r), Truth::kNo);
  // The URL inside the zip is in no text part.
  EXPECT_EQ(test(*make_body("hidden\\.example"), r), Truth::kNo);
  EXPECT_EQ(test(*make_body("see the invoice"), r), Truth::kYes);
}

TEST(MimeTest, UrlOnlyInAHeaderIsNotInTheBody) {
  Read r;
  read_file(write_queue_file(mail({"Subject: header url", "X-Url: http://header-only.example/"}, {"plain body"})), r);
  ASSERT_TRUE(r.content.parsed) << r.content.error;
  EXPECT_EQ(test(*make_body("header-only\\.example"), r), Truth::kNo);
  EXPECT_EQ(test(*make_body("plain body"), r), Truth::kYes);  // no MIME headers: text/plain
}

// A message with no Content-Type and no Content-Transfer-Encoding is its
// body as it is, cut at the limit on a UTF-8 boundary; a header block with a
// line that is no header goes to GMime, which calls it critical: unparsed.
TEST(MimeTest, APlainMessageIsItsBody) {
  Read r;
  read_file(write_queue_file(
                mail({"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "Message-ID: <p1@x>"}, {"caf\xc3\xa9 one", "two"})),
            r, ContentNeed::kBody, 4);
  ASSERT_TRUE(r.content.parsed) << r.content.error;
  EXPECT_EQ(r.content.subject, "Gr\xc3\xbc\xc3\x9f\x65");
  EXPECT_EQ(r.content.message_id, "p1@x");
  EXPECT_EQ(r.content.texts, std::vector<std::string>{"caf"});  // not half of the é
  EXPECT_TRUE(r.content.truncated);
  EXPECT_TRUE(r.content.attachments.empty());
  Read odd;
  read_file(write_queue_file(mail({"Subject: x", "not a header line", "X-Url: http://after.example/"}, {"body"})), odd);
  EXPECT_FALSE(odd.content.parsed);
  EXPECT_EQ(odd.content.error, "invalid header name: not a header line");
  EXPECT_EQ(test(*make_body("after\\.example"), odd), Truth::kUndecided);
}

TEST(MimeTest, UrlOnlyInABase64AttachmentThatIsNotText) {
  Read r;
  read_file(write_queue_file(mail({"Subject: bin", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=b"},
                                  {"--b", "Content-Type: text/plain", "", "nothing to see", "--b",
                                   "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64", "",
                                   "UEsDBCBodHRwOi8vaGlkZGVuLmV4YW1wbGUvcGF5bG9hZCBpbiBhIHppcA==", "--b--"})),
            r);
  ASSERT_TRUE(r.content.parsed) << r.content.error;
  ASSERT_EQ(r.content.attachments.size(), 1u);
  EXPECT_EQ(r.content.attachments[0].filename, "");
  EXPECT_EQ(r.content.attachments[0].type, "application/octet-stream");
  EXPECT_EQ(test(*make_body("hidden\\.example"), r), Truth::kNo);
  EXPECT_EQ(test(*make_attachment_type("application/octet-stream"), r), Truth::kYes);
  EXPECT_EQ(test(*make_attachment("*"), r), Truth::kNo);  // no file name: no match for a name
}

struct SubjectCase {
  const char* label;
  const char* header;
  const char* decoded;  // UTF-8
};

TEST(MimeTest, DecodesEncodedWordSubjects) {
  const SubjectCase cases[] = {
      {"Q, ISO-8859-1", "Subject: =?ISO-8859-1?Q?Prix_sp=E9cial?=",
       "Prix sp\xc3\xa9"
       "cial"},
      {"B, ISO-8859-1", "Subject: =?iso-8859-1?B?UHJpeCBzcOljaWFs?=",
       "Prix sp\xc3\xa9"
       "cial"},
      {"Q, UTF-8", "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=",
       "Gr\xc3\xbc\xc3\x9f"
       "e aus K\xc3\xb6ln"},
      {"B, UTF-8", "Subject: =?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4=?=",
       "Gr\xc3\xbc\xc3\x9f"
       "e aus K\xc3\xb6ln"},
      {"two words, folded", "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n =?UTF-8?Q?_aus_K=C3=B6ln?=",
       "Gr\xc3\xbc\xc3\x9f"
       "e aus K\xc3\xb6ln"},
      {"plain", "Subject: just text", "just text"},
  };
  for (const SubjectCase& c : cases) {
    SCOPED_TRACE(c.label);
    std::vector<std::string> headers;
    std::string h = c.header;
    // A folded header is two N records, as cleanup writes it.
    for (std::size_t nl; (nl = h.find('\n')) != std::string::npos; h = h.substr(nl + 1))
      headers.push_back(h.substr(0, nl));
    headers.push_back(h);
    for (ContentNeed need : {ContentNeed::kHeaders, ContentNeed::kBody}) {
      Read r;
      read_file(write_queue_file(mail(headers, {"body"})), r, need);
      ASSERT_TRUE(r.content.parsed) << r.content.error;
      EXPECT_EQ(r.content.subject, c.decoded);
      EXPECT_EQ(test(*make_subject(c.decoded), r), Truth::kYes);
    }
  }
}

TEST(MimeTest, HeadersOnlyKeepsNoBody) {
  Read r;
  read_file(write_queue_file(zip_message()), r, ContentNeed::kHeaders);
  ASSERT_TRUE(r.content.parsed) << r.content.error;
  EXPECT_TRUE(r.content.texts.empty());
  EXPECT_TRUE(r.content.attachments.empty());
  EXPECT_EQ(r.content.subject,
            "Gr\xc3\xb6\xc3\x9f"
            "e invoice");
}

// --- Fail closed ----------------------------------------------------------

TEST(MimeTest, AMultipartWithoutBoundaryIsNotParsed) {
  Read r;
  read_file(write_queue_file(mail({"Subject: broken", "MIME-Version: 1.0", "Content-Type: multipart/mixed"},
                                  {"--x", "Content-Type: text/plain", "", "http://spam.example/", "--x--"})),
            r);
  EXPECT_FALSE(r.content.parsed);
  EXPECT_EQ(r.content.error, "multipart without a boundary: mixed");
  std::vector<std::unique_ptr<Criterion>> criteria;
  criteria.push_back(make_body("spam"));
  criteria.push_back(make_body("nothing"));
  criteria.push_back(make_attachment("*"));
  criteria.push_back(make_attachment_type("text/*"));
  for (const auto& c : criteria) EXPECT_EQ(test(*c, r), Truth::kUndecided);
  // The header block is read as it is with --subject alone: one rule either way.
  ASSERT_TRUE(r.content.headers_parsed);
  EXPECT_EQ(test(*make_subject("broken"), r), Truth::kYes);
  EXPECT_EQ(test(*make_message_id("a@b"), r), Truth::kNo);
}

TEST(MimeTest, AMissingContentIsUndecided) {
  Read r;
  read_file(write_queue_file(mail({"Subject: hi"}, {"body"})), r);
  Subject s{r.msg, 0, 0, nullptr, nullptr, ""};
  EXPECT_EQ(make_subject("hi")->test_message(s), Truth::kUndecided);
  EXPECT_EQ(make_body("body")->test_message(s), Truth::kUndecided);
}

TEST(MimeTest, NothingFoundInATruncatedTextIsUndecided) {
  Read r;
  read_file(write_queue_file(mail({"Subject: long"}, {"early words", std::string(200, 'x'), "late words"})), r,
            ContentNeed::kBody, 50);
  ASSERT_TRUE(r.content.parsed) << r.content.error;
  EXPECT_TRUE(r.content.truncated);
  EXPECT_EQ(r.content.texts.at(0).size(), 50u);
  EXPECT_EQ(test(*make_body("early"), r), Truth::kYes);
  EXPECT_EQ(test(*make_body("late words"), r), Truth::kUndecided);
}

TEST(MimeTest, NothingFoundInACutRawContentIsUndecided) {
  Read r;
  read_file(write_queue_file(zip_message()), r, ContentNeed::kBody, kDefaultTextLimit, 400);
  ASSERT_TRUE(r.msg.content.truncated);
  ASSERT_TRUE(r.content.parsed) << r.content.error;  // our own cut is no damage
  EXPECT_TRUE(r.content.truncated);
  EXPECT_FALSE(r.content.headers_truncated);
  EXPECT_EQ(test(*make_attachment("*.pdf"), r), Truth::kUndecided);
  EXPECT_EQ(test(*make_subject("nothing like it"), r), Truth::kNo);  // the headers were read whole
}

TEST(MimeTest, ARegexThatGivesUpIsUndecided) {
  Read r;
  read_file(write_queue_file(mail({"Subject: x"}, {std::string(40, 'a') + "!"})), r);
  EXPECT_EQ(test(*make_body("(a+)+b"), r), Truth::kUndecided);
}

// --- Criteria: values ----------------------------------------------------

}  // namespace
}  // namespace qpurge
