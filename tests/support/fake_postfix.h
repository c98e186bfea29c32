// SPDX-License-Identifier: MIT
// fake_postfix.h - postconf, postmulti and postsuper for unit tests, acting
// on temporary spools (TestSpool) the way the real ones act on a queue, and
// failing on demand the way a real one cannot be made to.
//
// postsuper -d/-h/-H/-r/-e - QUEUE reads IDs on standard input and, for each
// ID found in QUEUE (directly or under a one-letter hash directory),
// deletes the file or moves it (hold, release to deferred, requeue to
// maildrop... here: to incoming), printing "NAME: ID: removed" etc. and the
// total, as postsuper does; unknown IDs are silently ignored.
#ifndef QPURGE_TESTS_SUPPORT_FAKE_POSTFIX_H_
#define QPURGE_TESTS_SUPPORT_FAKE_POSTFIX_H_

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "qpurge/postfix/process.h"

namespace qpurge::testing {

class FakePostfix : public CommandRunner {
 public:
  struct Call {
    std::vector<std::string> argv;
    std::string input;
  };
  std::map<std::string, std::string> spools;  // config dir ("" = default) -> queue directory
  std::string postmulti_output;               // what postmulti -l prints
  std::vector<Call> calls;
  std::string program_name = "postsuper";  // the prefix postsuper's lines carry
  int kill_on_run = 0;                     // the Nth postsuper run (1-based) is killed after its first ID
  int fail_exit_on_run = 0;                // the Nth postsuper run exits 1 without acting
  std::function<void(int run)> after_run;  // called after each postsuper run

  int postsuper_runs() const {
    int n = 0;
    for (const Call& c : calls) n += is_postsuper(c.argv);
    return n;
  }

  CommandResult run(const std::vector<std::string>& argv, std::string_view input) override {
    calls.push_back({argv, std::string(input)});
    CommandResult r;
    r.started = true;
    r.exited = true;
    const std::string prog = std::filesystem::path(argv[0]).filename();
    std::string config;
    std::size_t i = 1;
    if (argv.size() > 2 && argv[1] == "-c") config = argv[2], i = 3;
    if (prog == "postconf") {
      auto it = spools.find(config);
      if (it == spools.end()) {
        r.exit_status = 1;
        r.err = "postconf: fatal: open " + config + "/main.cf: No such file or directory\n";
      } else {
        r.out = it->second + "\n";
      }
    } else if (prog == "postmulti") {
      r.out = postmulti_output;
    } else {
      act(argv, i, config, input, r);
      if (after_run) after_run(postsuper_runs());
    }
    return r;
  }

 private:
  bool is_postsuper(const std::vector<std::string>& argv) const {
    std::string p = std::filesystem::path(argv[0]).filename();
    return p != "postconf" && p != "postmulti";
  }

  static std::string find(const std::string& root, const std::string& queue, const std::string& id) {
    namespace fs = std::filesystem;
    if (fs::exists(root + "/" + queue + "/" + id)) return root + "/" + queue + "/" + id;
    std::string hashed = root + "/" + queue + "/" + id.substr(0, 1) + "/" + id;
    return fs::exists(hashed) ? hashed : "";
  }

  void act(const std::vector<std::string>& argv, std::size_t i, const std::string& config, std::string_view input,
           CommandResult& r) {
    const int run = postsuper_runs();
    if (run == fail_exit_on_run) {
      r.exit_status = 1;
      r.err = program_name + ": fatal: scan_dir_push: open directory defer: Permission denied\n";
      return;
    }
    const std::string flag = argv[i], queue = argv.size() > i + 2 ? argv[i + 2] : "";
    if (flag == "-s") {
      fix_names(spools.at(config), r);
      return;
    }
    static const std::map<std::string, std::pair<std::string, std::string>> kWords = {
        {"-d", {"removed", "Deleted"}},
        {"-h", {"placed on hold", "Placed on hold"}},
        {"-H", {"released from hold", "Released from hold"}},
        {"-r", {"requeued", "Requeued"}},
        {"-e", {"expired", "Force-expired"}}};
    const auto& [per_id, total] = kWords.at(flag);
    const std::string root = spools.at(config);
    std::istringstream in{std::string(input)};
    int n = 0;
    for (std::string id; std::getline(in, id);) {
      std::string path = find(root, queue, id);
      if (path.empty()) continue;
      move(path, flag, root, id);
      r.err += program_name + ": " + id + ": " + per_id + "\n";
      ++n;
      if (run == kill_on_run) {
        r.exited = false;
        r.signal = 9;
        return;
      }
    }
    r.err += program_name + ": " + total + ": " + std::to_string(n) + " message" + (n == 1 ? "" : "s") + "\n";
  }

  // postsuper -s: a short-ID file whose name does not match its inode is
  // renamed to the first 5 characters and the inode in upper-case hex.
  static void fix_names(const std::string& root, CommandResult& r) {
    namespace fs = std::filesystem;
    int renamed = 0;
    for (const char* q : {"incoming", "active", "deferred", "hold"}) {
      if (!fs::exists(root + "/" + q)) continue;
      std::vector<fs::path> files;
      for (const auto& f : fs::recursive_directory_iterator(root + "/" + q))
        if (f.is_regular_file()) files.push_back(f.path());
      for (const fs::path& f : files) {
        std::string name = f.filename();
        char hex[32];
        std::snprintf(hex, sizeof hex, "%llX",
                      static_cast<unsigned long long>(fs::status(f).type() == fs::file_type::regular ? inode(f) : 0));
        std::string want = name.substr(0, 5) + hex;
        if (want == name) continue;
        fs::rename(f, f.parent_path() / want);
        ++renamed;
      }
    }
    if (renamed) r.err += "postsuper: Renamed to match inode number: " + std::to_string(renamed) + " messages\n";
  }

  static unsigned long long inode(const std::filesystem::path& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 ? static_cast<unsigned long long>(st.st_ino) : 0;
  }

  static void move(const std::string& path, const std::string& flag, const std::string& root, const std::string& id) {
    namespace fs = std::filesystem;
    if (flag == "-d") {
      fs::remove(path);
      return;
    }
    std::string to = flag == "-h" ? "hold" : flag == "-H" ? "deferred" : flag == "-r" ? "maildrop" : "";
    if (to.empty()) return;                             // -e marks the file; nothing moves
    if (to == "deferred") to += "/" + id.substr(0, 1);  // hashed, as hash_queue_names has it
    fs::create_directories(root + "/" + to);
    fs::rename(path, root + "/" + to + "/" + id);
  }
};

}  // namespace qpurge::testing

#endif  // QPURGE_TESTS_SUPPORT_FAKE_POSTFIX_H_
