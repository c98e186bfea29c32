// SPDX-License-Identifier: MIT
// address.h - envelope addresses and domains as Postfix stores them and as
// operators type them.
//
// Postfix keeps addresses in queue files in the internal form: the local part
// unquoted ("a b"@example.com is stored as a b@example.com). mailq and
// postqueue -j show the external form, the local part quoted as RFC 822 wants
// (Postfix's quote_822_local, 8-bit clean as in Postfix 3). external_address()
// gives that form; internal_address() takes what an operator typed back to
// the stored form. Neither fails: text that is not a well-formed address
// passes through unchanged.
//
// Domains may be typed and stored as U-labels (bücher.example) or A-labels
// (xn--bcher-kva.example). domain_ascii_form() gives the lower-case A-label
// form with the UTS #46 non-transitional mapping Postfix itself uses for
// SMTPUTF8 domains (so case and width variants of one Unicode name are the
// same domain), or "" when libidn2 cannot convert the text; the caller then
// compares it literally. libidn2 is in a module (src/select/idn_module.h),
// loaded for the first domain that is not ASCII: when it cannot be loaded,
// domain_ascii_form() throws ModuleError (util/module.h).
#ifndef QPURGE_SELECT_ADDRESS_H_
#define QPURGE_SELECT_ADDRESS_H_

#include <string>
#include <string_view>

#include "qpurge/util/escape.h"  // ascii_lower_char

namespace qpurge {

// ASCII case-insensitive equality (bytes >= 0x80 compare exactly).
bool iequals(std::string_view a, std::string_view b);

// "MAILER-DAEMON" (any case) or "<>". The empty string is not a spelling:
// an empty option value is more often a mistake than a wish.
bool is_null_sender_spelling(std::string_view value);

// The text after the last '@'; empty if there is none.
std::string_view address_domain(std::string_view address);

// The form postqueue -j and mailq print: the local part (after a source
// route "@a,@b:", before the last '@'; all of it when there is no '@')
// becomes a quoted-string unless it is a dot-string: not empty, no leading,
// trailing or double dot, no space, control character or one of ()<>@,;:\"[]
// (bytes >= 0x80 are ordinary). In the quoted-string '"', '\' and CR get a
// backslash. The null sender "" stays "" (showq substitutes empty_address_
// recipient, MAILER-DAEMON, before quoting; that is the printer's choice).
// Unlike showq, bytes that are not printable are not replaced with '?': the
// result is exact, and escaping is the printers' job (escape.h).
std::string external_address(std::string_view internal);

// The stored form of a typed address: when the local part is exactly one
// quoted-string ("..."@domain, or "..." alone), its quotes go and each
// backslash escape becomes the character it escapes. Anything else, a stray
// quote included, is returned unchanged: taken literally, never dropped.
std::string internal_address(std::string_view typed);

// Lower-case A-label form of a domain (every label), "" when the text is not
// convertible. Pure ASCII input is only lowered (an "xn--" label is kept as
// it is, not validated). Thread-safe.
std::string domain_ascii_form(std::string_view domain);

}  // namespace qpurge

#endif  // QPURGE_SELECT_ADDRESS_H_
