// SPDX-License-Identifier: MIT
// qshape_table.h - the table Postfix's qshape prints, for any selection.
//
// qshape (auxiliary/qshape/qshape.pl) shows recipient (or, with -s, sender)
// domains against message age in buckets of 5, 10, 20 ... minutes. This
// module reproduces its table byte for byte for the same messages and the
// same reference time: the same domain normalisation (lower case, the null
// sender as MAILER-DAEMON, the text after the last '@', ".." collapsed, one
// leading and one trailing dot stripped), the same counting (addresses, not
// messages; TOTAL counts every address), the same bucket arithmetic
// (geometric or linear, -b, -t), parent-domain rows (-p, -m), column widths,
// domain-column width (-w) and truncation, and the same row order (count
// descending, then shorter name first). Where qshape leaves the order to
// Perl's hash order (equal count and equal length), rows are ordered by name.
//
// qshape silently ignores some files (force-expired or group/other-writable
// ones, files whose second record is not the arrival time, maildrop files,
// files without a pending recipient). The caller says which messages those
// are; they are not in the table, and are counted in a note that the table
// itself does not contain.
#ifndef QPURGE_REPORT_QSHAPE_TABLE_H_
#define QPURGE_REPORT_QSHAPE_TABLE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qpurge {

struct ShapeOptions {
  bool senders = false;    // qshape -s
  int buckets = 10;        // -b (ignored unless > 0)
  int bucket_minutes = 5;  // -t (ignored unless > 0)
  bool linear = false;     // -l
  bool parents = false;    // -p
  int min_subdomains = 5;  // -m (ignored unless > 0)
  int width = 80;          // -w (ignored unless > 80)
  std::int64_t now = 0;    // qshape's time()
};

class ShapeTable {
 public:
  explicit ShapeTable(const ShapeOptions& options);

  // One message. `skip` is why qshape would not show it (plan.h's
  // qshape_skip_reason()), "" when it would.
  void add(std::int64_t arrival_time, std::string_view sender, const std::vector<std::string_view>& recipients,
           const std::string& skip = "");

  // The table as qshape prints it when stdout is not a terminal.
  std::string render_text() const;
  // "(N messages not shown by qshape: ...)", or "" when there are none.
  std::string note() const;
  // The same table as one JSON object (rows in the same order).
  std::string render_json() const;

  // The column headings: "T", then each bucket's upper bound in minutes,
  // the last one open-ended ("1280+"). With bucket() and normalise(), also
  // what the Prometheus output (metrics.h) counts by.
  std::vector<std::string> headings() const;
  // The column (1 to buckets) of a message that arrived then.
  int bucket(std::int64_t arrival_time) const;
  static std::string normalise(std::string_view address);

 private:
  struct Row {
    std::vector<std::uint64_t> counts;  // [0] total, [1..buckets]
    std::uint64_t subdomains = 0;
  };
  std::vector<std::pair<const std::string*, const Row*>> ordered_rows() const;
  void count(const std::string& key, int b, bool& was_new);

  ShapeOptions opt_;
  std::unordered_map<std::string, Row> rows_;
  std::map<std::string, std::uint64_t> skipped_;  // reason -> messages
};

}  // namespace qpurge

#endif  // QPURGE_REPORT_QSHAPE_TABLE_H_
