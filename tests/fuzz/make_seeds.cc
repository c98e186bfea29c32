// SPDX-License-Identifier: MIT
// make_seeds.cc - writes seed inputs for the queue file fuzzer: files laid
// out as cleanup writes them (the real files in tests/data are added by
// scripts/test-hardening).
#include <cstdio>
#include <string>

#include "support/queue_writer.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  qpurge::SyntheticMessage m;
  m.arrival_time = 1795344810;
  m.sender = "alice@example.com";
  m.recipients = {{"bob@example.com", "", false}, {"carol@other.example", "carol", true}};
  m.extracted_recipients = {{"t@example.com", "", false}};
  m.header_lines = {"Subject: x", "X-Folded: a", "\tb"};
  m.body_lines = {"body"};
  std::string f = qpurge::write_queue_file(m);
  std::string path = std::string(argv[1]) + "/synthetic.qf";
  FILE* out = std::fopen(path.c_str(), "w");
  if (!out) return 1;
  std::fwrite(f.data(), 1, f.size(), out);
  std::fclose(out);
  return 0;
}
