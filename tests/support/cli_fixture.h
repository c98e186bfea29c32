// SPDX-License-Identifier: MIT
// cli_fixture.h - the whole qpurge command (app/cli.h) on a temporary spool,
// with a fake System and a fake Postfix: what the app tests drive the
// engine and the archive modes with, end to end (arguments, configuration,
// engine, printers).
#ifndef QPURGE_TESTS_SUPPORT_CLI_FIXTURE_H_
#define QPURGE_TESTS_SUPPORT_CLI_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "qpurge/app/cli.h"
#include "support/fake_postfix.h"
#include "support/fake_system.h"
#include "support/test_spool.h"

namespace qpurge::testing {

class CliFixture : public ::testing::Test {
 protected:
  void SetUp() override { pf.spools[""] = spool.root(); }

  // qpurge ARGS...: the exit status; what it printed is in out and err.
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "qpurge");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    out.str("");
    err.str("");
    return run_cli(static_cast<int>(argv.size()), argv.data(), sys, pf, out, err);
  }
  void put(const std::string& queue, const std::string& id, const std::string& sender, std::vector<std::string> rcpts) {
    spool.put_message(queue, id, message(sender, std::move(rcpts)));
  }
  // Twenty deferred messages to bob@example.com (10278A74127 to
  // 23278A74127), one to a@other.test (F0278A74127).
  void fill() {
    for (int i = 0; i < 20; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "%02X278A74127", 0x10 + i);
      put("deferred", id, "spam@bad.test", {"bob@example.com"});
    }
    put("deferred", "F0278A74127", "friend@good.test", {"a@other.test"});
  }
  // The IDs fill() puts to bob@example.com, in order.
  static std::vector<std::string> bob_ids() {
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "%02X278A74127", 0x10 + i);
      ids.push_back(id);
    }
    return ids;
  }
  // The lines of `text`, without their newlines.
  static std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  // A field of the n-th audit record, as JSON text ("null" when it has none).
  std::string audit_field(std::size_t n, const std::string& field) const {
    if (n >= sys.audit_lines.size()) return "(no record " + std::to_string(n) + ")";
    const nlohmann::json j = nlohmann::json::parse(sys.audit_lines[n]);
    return j.contains(field) ? j[field].dump() : "null";
  }
  // Files under spool/queue, at any depth.
  std::size_t files_in(const std::string& queue) {
    std::size_t n = 0;
    for (auto& f : std::filesystem::recursive_directory_iterator(spool.root() + "/" + queue)) n += f.is_regular_file();
    return n;
  }

  // fill()'s summary: what a scan of it says.
  static constexpr const char* kFilled =
      "scanned 21 messages; selected 20 (20 matching recipients); skipped as mixed 0; in progress 0; unreadable 0";

  TestSpool spool;
  FakeSystem sys;
  FakePostfix pf;
  std::ostringstream out, err;
};

}  // namespace qpurge::testing

#endif  // QPURGE_TESTS_SUPPORT_CLI_FIXTURE_H_
