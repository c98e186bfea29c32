// SPDX-License-Identifier: MIT
// content_match.h - criteria on what a message says (its decoded content).
//
// Each criterion says how much content it needs (Criterion::needs_content):
// the Subject and Message-ID need the header block, the text parts and the
// attachments the whole content. The caller reads and decodes that much
// (content.h, mime.h) and hands it in Subject::content.
//
// Fail closed: every criterion here answers Truth::kUndecided, never kNo,
// when the content is missing (Subject::content is nullptr), could not be
// read from the queue file or parsed as MIME (MessageContent::parsed is
// false), when a regular expression gave up, or when it found nothing in a
// content that was cut at the limit (--body-limit): so such a message is
// never selected by a content selector and never let through by a content
// exclusion, and the Matcher counts and reports it.
//
// Regular expressions are Boost.Regex (Perl syntax) searched anywhere in the
// decoded UTF-8 text, any case (ASCII letters only, as for --header).
// Compiling validates the value: usage errors are std::invalid_argument.
#ifndef QPURGE_SELECT_CONTENT_MATCH_H_
#define QPURGE_SELECT_CONTENT_MATCH_H_

#include <memory>
#include <string_view>

#include "qpurge/select/match.h"

namespace qpurge {

// The Subject, RFC 2047 decoded to UTF-8.
std::unique_ptr<Criterion> make_subject(std::string_view regex);
// Any decoded text/plain or text/html part (HTML as source text). Never the
// headers, never a part that is not text (a URL inside a zip or an image
// does not match).
std::unique_ptr<Criterion> make_body(std::string_view regex);
// A part's file name (RFC 2231 / RFC 2047 decoded) matches the shell
// pattern GLOB, any case (fnmatch(3) with FNM_CASEFOLD): "*.zip", "invoice*".
std::unique_ptr<Criterion> make_attachment(std::string_view glob);
// An attachment's type is TYPE ("application/zip") or in the family
// "TYPE/*" ("image/*"); any case.
std::unique_ptr<Criterion> make_attachment_type(std::string_view type);
// The Message-ID equals ID, angle brackets optional; case matters.
std::unique_ptr<Criterion> make_message_id(std::string_view id);

}  // namespace qpurge

#endif  // QPURGE_SELECT_CONTENT_MATCH_H_
