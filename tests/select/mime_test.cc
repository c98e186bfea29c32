// SPDX-License-Identifier: MIT
// mime_test.cc - what decode_content() (mime.h) makes of whole message texts
// and what the content criteria (content_match.h) decide on them: RFC 2047
// words decoded one by one, header-only messages, the MIME structure known
// whatever --body-limit cut, a raw content cut inside a part, more than one
// Subject, and a file name in either header. (Reading the content out of
// queue files is spool/content_test.cc.)
#include "qpurge/select/mime.h"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "qpurge/select/content_match.h"
#include "qpurge/spool/queue_file.h"
#include "support/queue_writer.h"

namespace qpurge {
namespace {

MessageContent decode(const std::string& text, ContentNeed need = ContentNeed::kBody,
                      std::size_t text_limit = kDefaultTextLimit, bool cut = false) {
  MessageContent out;
  decode_content(RawContent{text, cut}, need, text_limit, out);
  return out;
}

// One message, the header fields and the structure, as every kind of run
// decodes it (--subject alone, --attachment, --body).
const ContentNeed kEveryNeed[] = {ContentNeed::kHeaders, ContentNeed::kParts, ContentNeed::kBody};

Truth test(const Criterion& c, const MessageContent& content) {
  static const Message msg;
  return c.test_message(Subject{msg, 0, 0, nullptr, &content, "10278A74127"});
}

// --- Fast paths: where qpurge does not call GMime ---------------------------

// A Subject on one line, 7-bit, with no encoded word is not handed to GMime:
// qpurge trims the spaces and tabs around it and keeps the rest, which must
// be exactly what g_mime_utils_header_unfold() then _header_decode_text()
// make of it. Checked on a corpus of such values (every 7-bit byte but CR
// and LF, runs of blanks, '=' and '?' apart), and on 8-bit text, which still
// goes through GMime.
TEST(MimeTest, SubjectsQpurgeDecodesAloneAreWhatGMimeMakesOfThem) {
  decode("Subject: x\n\n", ContentNeed::kHeaders);  // GMime initialised, as the content module does
  std::mt19937 rng(23);
  const std::string often = " \t=?_aZ09<>@\"(),;:.\\";
  int checked = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string v;
    const int n = static_cast<int>(rng() % 30);
    for (int k = 0; k < n; ++k) {
      const unsigned r = rng() % 8;
      char c = r < 4 ? often[rng() % often.size()] : static_cast<char>(0x01 + rng() % 0x7f);
      if (r == 7 && i % 4 == 0) c = static_cast<char>(0x80 + rng() % 0x80);  // some 8-bit values too
      if (c == '\r' || c == '\n') c = ' ';
      v += c;
    }
    if (v.find("=?") != std::string::npos) continue;  // encoded words: decoded one by one, not as GMime does
    char* u = g_mime_utils_header_unfold(v.c_str());
    char* d = g_mime_utils_header_decode_text(nullptr, u);
    const std::string want = d;
    g_free(d);
    g_free(u);
    EXPECT_EQ(decode("Subject:" + v + "\n\nbody\n", ContentNeed::kHeaders).subject, want) << '"' << v << '"';
    ++checked;
  }
  EXPECT_GT(checked, 3000);
}

// The same for a Message-ID of the common form "<dot-atom@dot-atom>", which
// qpurge takes apart itself; others (here: dots doubled or at an end, two
// '@', no brackets) go to g_mime_utils_decode_message_id() as before.
TEST(MimeTest, MessageIdsQpurgeDecodesAloneAreWhatGMimeMakesOfThem) {
  decode("Subject: x\n\n", ContentNeed::kHeaders);  // GMime initialised, as the content module does
  std::mt19937 rng(5);
  const std::string chars = "ab.Z09-_+$=%@!#&'*/?^`{|}~.";
  for (int i = 0; i < 4000; ++i) {
    std::string v = rng() % 5 == 0 ? " <" : "<";
    const int n = 1 + static_cast<int>(rng() % 20);
    for (int k = 0; k < n; ++k) v += chars[rng() % chars.size()];
    v += rng() % 5 == 0 ? ">\t" : ">";
    if (i % 50 == 0) v = v.substr(v.find('<') + 1);  // no brackets at all
    char* d = g_mime_utils_decode_message_id(v.c_str());
    const std::string want = d ? d : "";
    g_free(d);
    EXPECT_EQ(decode("Message-ID:" + v + "\n\nbody\n", ContentNeed::kHeaders).message_id, want) << '"' << v << '"';
  }
}

// --- RFC 2047: each encoded word on its own --------------------------------

struct WordCase {
  const char* label;
  const char* raw;
  const char* decoded;
};

TEST(MimeWordsTest, DecodesEachEncodedWordOnItsOwn) {
  const WordCase cases[] = {
      // GMime alone: "ab" (the padding ends the merged base64 stream).
      {"base64 word ending in padding, then another", "=?UTF-8?B?YWI=?= =?UTF-8?B?Y2QucGRm?=", "abcd.pdf"},
      {"folded between the words", "=?UTF-8?B?YWI=?=\n =?UTF-8?B?Y2QucGRm?=", "abcd.pdf"},
      {"a character split across two base64 words", "=?UTF-8?B?R3LD?= =?UTF-8?B?vMOfZQ==?=",
       "Gr\xc3\xbc\xc3\x9f"
       "e"},
      {"a character split across two Q words", "=?UTF-8?Q?Gr=C3?= =?UTF-8?Q?=BC=C3=9Fe?=",
       "Gr\xc3\xbc\xc3\x9f"
       "e"},
      {"a split character across B and Q words", "=?UTF-8?B?R3LD?= =?utf-8?q?=BC?=", "Gr\xc3\xbc"},
      {"two charsets side by side", "=?ISO-8859-1?Q?caf=E9?= =?UTF-8?B?IOKCrA==?=", "caf\xc3\xa9 \xe2\x82\xac"},
      {"white space between words goes, around text it stays", "a  =?UTF-8?Q?b?=  =?UTF-8?Q?c?=  d", "a  bc  d"},
      {"underscore is a space, =5F an underscore", "=?UTF-8?Q?a_b=5Fc?=", "a b_c"},
      {"a word inside a word, as GMime reads it", "x=?UTF-8?Q?y?=z", "xyz"},
      {"language after the charset", "=?UTF-8*en?Q?hello?= =?UTF-8?Q?_world?=", "hello world"},
      {"not an encoded word: left as it is", "=?*x?Q?a?= =?UTF-8?X?a?=", "=?*x?Q?a?= =?UTF-8?X?a?="},
      {"an empty payload", "=?UTF-8?B?\?=x", "x"},
      {"plain text", "just text", "just text"},
  };
  for (const WordCase& c : cases) {
    SCOPED_TRACE(c.label);
    EXPECT_EQ(decode_header_value(c.raw), c.decoded);  // --header with --decode-headers
    const std::string message = std::string("Subject: ") + c.raw + "\nMIME-Version: 1.0\n\nbody\n";
    for (ContentNeed need : kEveryNeed) {
      MessageContent m = decode(message, need);
      ASSERT_TRUE(m.parsed) << m.error;
      EXPECT_EQ(m.subject, c.decoded);
    }
  }
}

TEST(MimeWordsTest, SubjectSelectorSeesTheWholeDecodedSubject) {
  const std::string message =
      "From: a@b.example\nSubject: =?UTF-8?B?SW52b2ljZSA=?= =?UTF-8?B?TWFyY2g=?=\n"
      "Content-Type: text/plain; charset=utf-8\n\nsee attached\n";
  for (ContentNeed need : kEveryNeed) {
    MessageContent m = decode(message, need);
    EXPECT_EQ(m.subject, "Invoice March");
    EXPECT_EQ(test(*make_subject("^Invoice March$"), m), Truth::kYes);
  }
}

// An attachment name in RFC 2047 words, as Outlook and Thunderbird write it
// inside a quoted parameter.
TEST(MimeWordsTest, AttachmentNamesAreDecodedWordByWord) {
  const std::string message =
      "From: billing@shop.example\n"
      "Subject: your invoice\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"=_b1\"\n"
      "\n"
      "--=_b1\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "Please find the invoice attached.\n"
      "--=_b1\n"
      "Content-Type: application/pdf;\n"
      " name=\"=?UTF-8?B?YWI=?= =?UTF-8?B?Y2QucGRm?=\"\n"
      "Content-Disposition: attachment;\n"
      " filename=\"=?UTF-8?B?YWI=?= =?UTF-8?B?Y2QucGRm?=\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERi0xLjQK\n"
      "--=_b1\n"
      "Content-Type: application/octet-stream; name=\"=?ISO-8859-1?Q?R=E9sum=E9?= =?UTF-8?Q?=2Eexe?=\"\n"
      "\n"
      "MZ\n"
      "--=_b1--\n";
  for (ContentNeed need : {ContentNeed::kParts, ContentNeed::kBody}) {
    MessageContent m = decode(message, need);
    ASSERT_TRUE(m.parsed) << m.error;
    ASSERT_EQ(m.attachments.size(), 2u);
    EXPECT_EQ(m.attachments[0].filename, "abcd.pdf");
    EXPECT_EQ(m.attachments[0].other_name, "");  // the same name in both headers
    EXPECT_EQ(m.attachments[1].filename, "R\xc3\xa9sum\xc3\xa9.exe");
    EXPECT_EQ(test(*make_attachment("*.pdf"), m), Truth::kYes);
    EXPECT_EQ(test(*make_attachment("abcd.pdf"), m), Truth::kYes);
    EXPECT_EQ(test(*make_attachment("r\xc3\xa9sum*.exe"), m), Truth::kYes);
    EXPECT_EQ(test(*make_attachment("ab"), m), Truth::kNo);
  }
}

// --- A header block alone --------------------------------------------------

TEST(MimeHeaderOnlyTest, AHeaderOnlyMimeMessageHasAnEmptyBody) {
  struct Case {
    const char* label;
    std::string text;
  } cases[] = {
      {"text/plain, no empty line", "Subject: ping\nMIME-Version: 1.0\nContent-Type: text/plain\n"},
      {"text/plain, empty line, nothing after", "Subject: ping\nContent-Type: text/plain; charset=utf-8\n\n"},
      {"multipart, no empty line", "Subject: ping\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n"},
      {"multipart, empty line", "Subject: ping\nContent-Type: multipart/alternative; boundary=x\n\n"},
      {"base64 text", "Subject: ping\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n"},
      {"multipart, blank lines only", "Subject: ping\nContent-Type: multipart/mixed; boundary=x\n\n\n \n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    for (ContentNeed need : {ContentNeed::kParts, ContentNeed::kBody}) {
      MessageContent m = decode(c.text, need);
      ASSERT_TRUE(m.parsed) << m.error;
      EXPECT_EQ(m.subject, "ping");
      EXPECT_TRUE(m.attachments.empty());
      EXPECT_FALSE(m.truncated);
      EXPECT_EQ(test(*make_attachment("*"), m), Truth::kNo);
      EXPECT_EQ(test(*make_attachment_type("application/*"), m), Truth::kNo);
      EXPECT_EQ(test(*make_body("anything"), m), Truth::kNo);
    }
  }
}

TEST(MimeHeaderOnlyTest, AHeaderOnlyPartWithANameIsAnEmptyAttachment) {
  MessageContent m = decode("Subject: scan\nContent-Type: application/pdf; name=scan.pdf\n", ContentNeed::kParts);
  ASSERT_TRUE(m.parsed) << m.error;
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].filename, "scan.pdf");
  EXPECT_EQ(test(*make_attachment("*.pdf"), m), Truth::kYes);
}

// Only a message with no body at all is excused: a body that ends inside a
// multipart is still damage, and a header block cut by our own limit is
// still cut.
TEST(MimeHeaderOnlyTest, ABodyThatEndsTooEarlyIsStillMalformed) {
  MessageContent m =
      decode("Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n",
             ContentNeed::kParts);
  EXPECT_FALSE(m.parsed);
  EXPECT_EQ(m.error, "truncated or malformed message");
  EXPECT_EQ(test(*make_attachment("*"), m), Truth::kUndecided);
  m = decode("Subject: x\nContent-Type: text/plain\n", ContentNeed::kParts, kDefaultTextLimit, true);
  ASSERT_TRUE(m.parsed) << m.error;
  EXPECT_TRUE(m.headers_truncated);
  EXPECT_EQ(test(*make_attachment("*"), m), Truth::kUndecided);
  EXPECT_EQ(test(*make_subject("y"), m), Truth::kUndecided);
}

// A message with no MIME headers is one text part, however long: when its
// whole header block was read, a cut in its text hides no attachment.
TEST(MimeHeaderOnlyTest, APlainMessageCutInItsTextHasNoAttachmentToMiss) {
  MessageContent m =
      decode("Subject: x\nFrom: a@b.example\n\nsome text that goes o", ContentNeed::kParts, kDefaultTextLimit, true);
  ASSERT_TRUE(m.parsed) << m.error;
  EXPECT_FALSE(m.parts_truncated);
  EXPECT_EQ(test(*make_attachment("*"), m), Truth::kNo);
  m = decode("Subject: x\nFrom: a@b.exa", ContentNeed::kParts, kDefaultTextLimit, true);
  EXPECT_TRUE(m.parts_truncated) << "a Content-Type may have come after the cut";
  EXPECT_EQ(test(*make_attachment("*"), m), Truth::kUndecided);
}

// --- The structure, whatever --body-limit cut ------------------------------

std::string long_text_message(bool with_zip) {
  std::string m =
      "Subject: newsletter\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"nl\"\n\n"
      "--nl\nContent-Type: text/plain; charset=utf-8\n\n" +
      std::string(4000, 'x') + "\nlate words\n";
  if (with_zip)
    m += "--nl\nContent-Type: application/zip\nContent-Disposition: attachment; filename=\"docs.zip\"\n"
         "Content-Transfer-Encoding: base64\n\nUEsDBA==\n";
  return m + "--nl--\n";
}

TEST(MimeStructureTest, AttachmentsAreDecidedWhateverTheBodyLimitCut) {
  for (bool with_zip : {false, true}) {
    SCOPED_TRACE(with_zip ? "with a zip after the long text" : "no attachment");
    const std::string text = long_text_message(with_zip);
    const Truth zip = with_zip ? Truth::kYes : Truth::kNo;
    MessageContent body = decode(text, ContentNeed::kBody, 100);  // --body with --attachment
    ASSERT_TRUE(body.parsed) << body.error;
    EXPECT_TRUE(body.truncated);
    EXPECT_FALSE(body.parts_truncated);
    EXPECT_EQ(test(*make_body("late words"), body), Truth::kUndecided);
    EXPECT_EQ(test(*make_attachment("*.zip"), body), zip);
    EXPECT_EQ(test(*make_attachment("*.exe"), body), Truth::kNo);
    EXPECT_EQ(test(*make_attachment_type("application/zip"), body), zip);
    EXPECT_EQ(test(*make_attachment_type("image/*"), body), Truth::kNo);
    MessageContent parts = decode(text, ContentNeed::kParts, 100);  // --attachment alone: no text decoded
    ASSERT_TRUE(parts.parsed) << parts.error;
    EXPECT_TRUE(parts.texts.empty());
    EXPECT_EQ(test(*make_attachment("*.zip"), parts), zip);
    EXPECT_EQ(test(*make_attachment_type("application/zip"), parts), zip);
  }
}

// A raw content cut at the read limit: what was seen before the cut decides;
// a name or type from the header the cut fell in decides nothing, and
// nothing found means undecided (the parts after the cut were not seen).
TEST(MimeStructureTest, ARawCutDecidesOnlyWhatItDidNotCut) {
  const std::string text =
      "Subject: two files\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: application/pdf; name=\"a.pdf\"\n\nJVBERi0xLjQK\n"
      "--b\nContent-Type: application/octet-stream;\n name=\"payload.exe.txt\"\n\nTVqQAAMAAAAEAAAA\n--b--\n";
  const std::size_t in_name = text.find("payload.exe") + std::string("payload.exe").size();
  MessageContent m = decode(text.substr(0, in_name), ContentNeed::kParts, kDefaultTextLimit, true);
  ASSERT_TRUE(m.parsed) << m.error;
  EXPECT_TRUE(m.parts_truncated);
  ASSERT_EQ(m.attachments.size(), 2u);
  EXPECT_FALSE(m.attachments[0].cut);
  EXPECT_TRUE(m.attachments[1].cut);
  EXPECT_EQ(test(*make_attachment("*.pdf"), m), Truth::kYes);
  EXPECT_EQ(test(*make_attachment("*.exe"), m), Truth::kUndecided);  // the name goes on: ".txt"
  EXPECT_EQ(test(*make_attachment("*.zip"), m), Truth::kUndecided);
  EXPECT_EQ(test(*make_attachment_type("application/octet-stream"), m), Truth::kUndecided);
  EXPECT_EQ(test(*make_attachment_type("application/pdf"), m), Truth::kYes);
  // Cut in the body of the last part: its header is whole, its name decides.
  const std::size_t in_body = text.find("TVqQ") + 2;
  m = decode(text.substr(0, in_body), ContentNeed::kParts, kDefaultTextLimit, true);
  ASSERT_TRUE(m.parsed) << m.error;
  ASSERT_EQ(m.attachments.size(), 2u);
  EXPECT_FALSE(m.attachments[1].cut);
  EXPECT_EQ(test(*make_attachment("*.exe.txt"), m), Truth::kYes);
  EXPECT_EQ(test(*make_attachment("*.zip"), m), Truth::kUndecided);
}

// --- More than one Subject -------------------------------------------------

TEST(MimeSubjectTest, EverySubjectHeaderIsSearchedByEveryKindOfRun) {
  const std::string plain = "Subject: Your parcel\nSubject: =?UTF-8?Q?Gewinn?=\nFrom: a@b.example\n\nhello\n";
  const std::string mime =
      "Subject: Your parcel\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
      "Subject: =?UTF-8?Q?Gewinn?=\nMessage-ID: <one@b.example>\nMessage-ID: <two@b.example>\n\nhello\n";
  for (const std::string& text : {plain, mime}) {
    for (ContentNeed need : kEveryNeed) {
      SCOPED_TRACE(text.substr(60, 20) + " need " + std::to_string(static_cast<int>(need)));
      MessageContent m = decode(text, need);
      ASSERT_TRUE(m.parsed) << m.error;  // two different Subjects are no MIME damage
      EXPECT_EQ(m.subjects, (std::vector<std::string>{"Your parcel", "Gewinn"}));
      EXPECT_EQ(m.subject, "Your parcel");  // the first, as --detail shows it
      EXPECT_EQ(test(*make_subject("parcel"), m), Truth::kYes);
      EXPECT_EQ(test(*make_subject("^Gewinn$"), m), Truth::kYes);
      EXPECT_EQ(test(*make_subject("lottery"), m), Truth::kNo);
      if (text == mime) {
        EXPECT_EQ(test(*make_message_id("one@b.example"), m), Truth::kYes);
        EXPECT_EQ(test(*make_message_id("<two@b.example>"), m), Truth::kYes);
        EXPECT_EQ(test(*make_message_id("three@b.example"), m), Truth::kNo);
      }
    }
  }
}

// Where Postfix ends the header block (a line that is no header), the
// Subject after it is body text, whatever the run decodes.
TEST(MimeSubjectTest, ASubjectAfterALineThatIsNoHeaderIsBodyText) {
  const std::string text = "Subject: first\nthis is no header\nSubject: second\n\nbody\n";
  for (ContentNeed need : kEveryNeed) {
    MessageContent m = decode(text, need);
    EXPECT_EQ(m.subjects, std::vector<std::string>{"first"});
    EXPECT_EQ(test(*make_subject("second"), m), Truth::kNo);
  }
  // A message without a Subject has an empty one.
  MessageContent none = decode("From: a@b.example\n\nx\n", ContentNeed::kHeaders);
  EXPECT_EQ(test(*make_subject("^$"), none), Truth::kYes);
  EXPECT_EQ(test(*make_subject("."), none), Truth::kNo);
}

// Two different values of a header that says how a part is read still make
// the structure ambiguous.
TEST(MimeSubjectTest, TwoContentTypesInOnePartAreStillDamage) {
  MessageContent m = decode(
      "Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: text/plain\nContent-Type: application/x-msdownload; name=a.exe\n\nMZ\n--b--\n",
      ContentNeed::kParts);
  EXPECT_FALSE(m.parsed);
  EXPECT_EQ(m.error, "conflicting header: Content-Type");
  EXPECT_EQ(test(*make_attachment("*.exe"), m), Truth::kUndecided);
  EXPECT_EQ(test(*make_subject("x"), m), Truth::kYes);  // the header block is fine
}

// --- A file name in either header ------------------------------------------

std::string two_names_message() {
  return "From: billing@shop.example\n"
         "Subject: invoice\n"
         "MIME-Version: 1.0\n"
         "Content-Type: multipart/mixed; boundary=\"mix\"\n"
         "\n"
         "--mix\n"
         "Content-Type: text/plain\n"
         "\n"
         "See the invoice.\n"
         "--mix\n"
         "Content-Type: application/octet-stream; name=\"invoice.exe\"\n"
         "Content-Disposition: attachment; filename=\"invoice.pdf\"\n"
         "Content-Transfer-Encoding: base64\n"
         "\n"
         "TVqQAAMAAAAEAAAA\n"
         "--mix--\n";
}

TEST(MimeNamesTest, ANameInEitherHeaderCounts) {
  MessageContent m = decode(two_names_message(), ContentNeed::kParts);
  ASSERT_TRUE(m.parsed) << m.error;
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].filename, "invoice.pdf");
  EXPECT_EQ(m.attachments[0].other_name, "invoice.exe");
  EXPECT_EQ(test(*make_attachment("*.exe"), m), Truth::kYes);
  EXPECT_EQ(test(*make_attachment("*.pdf"), m), Truth::kYes);
  EXPECT_EQ(test(*make_attachment("*.doc"), m), Truth::kNo);
}

// The envelope of a queue file as cleanup writes it, for a whole verdict.
struct Envelope {
  Envelope() {
    SyntheticMessage sm;
    sm.arrival_time = 1795344810;
    sm.sender = "billing@shop.example";
    sm.recipients.push_back({"victim@example.com", "", false});
    sm.header_lines = {"Subject: invoice"};
    sm.body_lines = {"x"};
    file = write_queue_file(sm);
    MemorySource source(file);
    RecordReader reader;
    std::string error;
    EXPECT_TRUE(parse_queue_file(source, reader, msg, error, ParseOptions{})) << error;
  }
  std::string file;
  Message msg;
};

// --exclude-attachment excludes when either name matches.
TEST(MimeNamesTest, AnExclusionExcludesWhenEitherNameMatches) {
  MessageContent m = decode(two_names_message(), ContentNeed::kParts);
  const Envelope env;
  const Subject s{env.msg, 0, 0, nullptr, &m, "10278A74127"};
  for (const char* glob : {"*.exe", "*.pdf", "*.doc"}) {
    SCOPED_TRACE(glob);
    Matcher matcher;
    CriterionGroup all;
    all.option = "--all";
    all.alternatives.push_back(make_all());
    matcher.add(std::move(all));
    CriterionGroup e;
    e.option = "--exclude-attachment";
    e.values = {glob};
    e.alternatives.push_back(make_attachment(glob));
    e.exclude = true;
    matcher.add(std::move(e));
    const Verdict v = matcher.evaluate(s);
    EXPECT_EQ(v.kind, std::string(glob) == "*.doc" ? VerdictKind::kSelected : VerdictKind::kNoMatch);
    EXPECT_FALSE(v.undecided);
  }
}

}  // namespace
}  // namespace qpurge
