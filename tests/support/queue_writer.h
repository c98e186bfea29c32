// SPDX-License-Identifier: MIT
// queue_writer.h - writing queue files record for record as Postfix's
// cleanup daemon does for a local (sendmail) submission.
//
// Used by the tests (to build files with a known layout, and to damage them
// on purpose) and by the synthetic queue generator of the benchmarks. The
// layout follows cleanup's output on Postfix 3.7 (see
// shared/docs/postfix-queue-format.md section 3): C, T, A create_time,
// A rewrite_context, [F], S, per recipient [A dsn_orig_rcpt] O R, M, the
// content as N records, X, extracted-segment recipients, E. The size record
// is filled in last, as cleanup_final() does.
//
// Not part of qpurge itself: it lives in the qpurge_test_support library
// (tests/support/CMakeLists.txt), which only the tests, the fuzz seed maker
// and qpurge-gen link.
#ifndef QPURGE_TESTS_SUPPORT_QUEUE_WRITER_H_
#define QPURGE_TESTS_SUPPORT_QUEUE_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

namespace qpurge {

struct SyntheticRecipient {
  std::string address;
  std::string original;  // empty: same as address
  bool done = false;     // written as D (delivered), else R
};

struct SyntheticMessage {
  std::int64_t arrival_time = 0;
  std::int64_t arrival_usec = 0;
  std::string sender;                                    // empty: null sender
  std::string fullname;                                  // F record when not empty
  std::vector<SyntheticRecipient> recipients;            // envelope
  std::vector<SyntheticRecipient> extracted_recipients;  // after X (sendmail -t)
  std::vector<std::string> header_lines;
  std::vector<std::string> body_lines;
};

// The whole file.
std::string write_queue_file(const SyntheticMessage& m);

}  // namespace qpurge

#endif  // QPURGE_TESTS_SUPPORT_QUEUE_WRITER_H_
