// SPDX-License-Identifier: MIT
// content_match.cc - content criteria; see content_match.h.
#include "qpurge/select/content_match.h"

#include <fnmatch.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "qpurge/select/mime.h"
#include "regex_truth.h"

namespace qpurge {
namespace {

// The content, or nullptr when the criterion must answer undecided: the
// header fields need the header block read, the rest the MIME structure parsed.
const MessageContent* usable(const Subject& s) { return s.content && s.content->parsed ? s.content : nullptr; }
const MessageContent* usable_headers(const Subject& s) {
  return s.content && s.content->headers_parsed ? s.content : nullptr;
}

// What a search that found nothing means: no, unless it did not see everything.
Truth not_found(bool undecided, bool truncated) { return undecided || truncated ? Truth::kUndecided : Truth::kNo; }

// Whether `re` is found in any of `texts`: yes on the first match; else
// undecided when a search gave up or the texts were cut; else no.
Truth search_any(const boost::regex& re, const std::vector<std::string>& texts, bool cut) {
  bool undecided = false;
  for (const std::string& text : texts) {
    const Truth t = detail::regex_search_truth(re, text);
    if (t == Truth::kYes) return t;
    undecided |= t == Truth::kUndecided;
  }
  return not_found(undecided, cut);
}

class SubjectCriterion : public Criterion {
 public:
  explicit SubjectCriterion(std::string_view re) : re_(detail::compile_regex(re)) {}
  Side side() const override { return Side::kMessage; }
  ContentNeed needs_content() const override { return ContentNeed::kHeaders; }
  // Every Subject header counts, as for --header 'Subject: ...' and
  // Postfix's header_checks: a client may show any of them. A message
  // without one has an empty Subject.
  Truth test_message(const Subject& s) const override {
    const MessageContent* c = usable_headers(s);
    if (!c) return Truth::kUndecided;
    static const std::vector<std::string> kNone{std::string()};
    return search_any(re_, c->subjects.empty() ? kNone : c->subjects, c->headers_truncated);
  }

 private:
  boost::regex re_;
};

class BodyCriterion : public Criterion {
 public:
  explicit BodyCriterion(std::string_view re) : re_(detail::compile_regex(re)) {}
  Side side() const override { return Side::kMessage; }
  ContentNeed needs_content() const override { return ContentNeed::kBody; }
  Truth test_message(const Subject& s) const override {
    const MessageContent* c = usable(s);
    if (!c) return Truth::kUndecided;
    return search_any(re_, c->texts, c->truncated);
  }

 private:
  boost::regex re_;
};

// A name in either place (Content-Disposition filename=, Content-Type
// name=) counts: a mail client may show either.
class AttachmentCriterion : public Criterion {
 public:
  explicit AttachmentCriterion(std::string_view glob) : glob_(glob) {
    if (glob_.empty()) throw std::invalid_argument("empty file name pattern");
    if (glob_.find('\0') != std::string::npos) throw std::invalid_argument("NUL in file name pattern");
  }
  Side side() const override { return Side::kMessage; }
  ContentNeed needs_content() const override { return ContentNeed::kParts; }
  Truth test_message(const Subject& s) const override {
    const MessageContent* c = usable(s);
    if (!c) return Truth::kUndecided;
    bool undecided = false;
    for (const auto& a : c->attachments) {
      for (const std::string* name : {&a.filename, &a.other_name}) {
        Truth t = match(*name);
        if (t == Truth::kYes && !a.cut) return t;
        undecided |= t != Truth::kNo;  // a match on a name the cut fell in decides nothing
      }
    }
    return not_found(undecided, c->parts_truncated);
  }

 private:
  Truth match(const std::string& name) const {
    if (name.empty()) return Truth::kNo;
    // fnmatch() stops at a NUL: a name with one cannot be judged whole.
    if (name.find('\0') != std::string::npos) return Truth::kUndecided;
    int r = ::fnmatch(glob_.c_str(), name.c_str(), FNM_CASEFOLD);
    return r == 0 ? Truth::kYes : r == FNM_NOMATCH ? Truth::kNo : Truth::kUndecided;
  }

  std::string glob_;
};

std::string ascii_lower_copy(std::string_view s) {
  std::string out(s);
  for (char& ch : out)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return out;
}

// A MIME token (RFC 2045): printable ASCII without specials.
bool mime_token(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u >= 0x7f || std::string_view("()<>@,;:\\\"/[]?=").find(ch) != std::string_view::npos)
      return false;
  }
  return true;
}

class AttachmentTypeCriterion : public Criterion {
 public:
  explicit AttachmentTypeCriterion(std::string_view type) : type_(ascii_lower_copy(type)) {
    std::size_t slash = type_.find('/');
    std::string_view major = std::string_view(type_).substr(0, slash);
    std::string_view minor =
        slash == std::string::npos ? std::string_view() : std::string_view(type_).substr(slash + 1);
    family_ = minor == "*";
    if (slash == std::string::npos || major == "*" || !mime_token(major) || (!family_ && !mime_token(minor)))
      throw std::invalid_argument("not a MIME type: '" + std::string(type) +
                                  "': expected TYPE/SUBTYPE or TYPE/* (application/zip, image/*)");
    if (family_) type_.pop_back();  // "image/"
  }
  Side side() const override { return Side::kMessage; }
  ContentNeed needs_content() const override { return ContentNeed::kParts; }
  Truth test_message(const Subject& s) const override {
    const MessageContent* c = usable(s);
    if (!c) return Truth::kUndecided;
    bool undecided = false;
    for (const auto& a : c->attachments) {
      if (!(family_ ? a.type.compare(0, type_.size(), type_) == 0 : a.type == type_)) continue;
      if (!a.cut) return Truth::kYes;
      undecided = true;  // the type of the part the cut fell in decides nothing
    }
    return not_found(undecided, c->parts_truncated);
  }

 private:
  std::string type_;  // lower case; "type/" for a family
  bool family_ = false;
};

class MessageIdCriterion : public Criterion {
 public:
  explicit MessageIdCriterion(std::string_view id) {
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
    if (id.empty()) throw std::invalid_argument("empty Message-ID");
    for (char ch : id)
      if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f || ch == '<' || ch == '>')
        throw std::invalid_argument("not a Message-ID: '" + std::string(id) + "'");
    id_ = std::string(id);
  }
  Side side() const override { return Side::kMessage; }
  ContentNeed needs_content() const override { return ContentNeed::kHeaders; }
  Truth test_message(const Subject& s) const override {
    const MessageContent* c = usable_headers(s);
    if (!c) return Truth::kUndecided;
    for (const std::string& id : c->message_ids)
      if (id == id_) return Truth::kYes;
    return not_found(false, c->headers_truncated);
  }

 private:
  std::string id_;
};

}  // namespace

std::unique_ptr<Criterion> make_subject(std::string_view re) { return std::make_unique<SubjectCriterion>(re); }
std::unique_ptr<Criterion> make_body(std::string_view re) { return std::make_unique<BodyCriterion>(re); }
std::unique_ptr<Criterion> make_attachment(std::string_view glob) {
  return std::make_unique<AttachmentCriterion>(glob);
}
std::unique_ptr<Criterion> make_attachment_type(std::string_view type) {
  return std::make_unique<AttachmentTypeCriterion>(type);
}
std::unique_ptr<Criterion> make_message_id(std::string_view id) { return std::make_unique<MessageIdCriterion>(id); }

}  // namespace qpurge
