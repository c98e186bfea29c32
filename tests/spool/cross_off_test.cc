// SPDX-License-Identifier: MIT
// cross_off_test.cc - crossing a recipient off in place, as
// deliver_completed() does.
#include "qpurge/spool/cross_off.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "qpurge/spool/queue_file.h"
#include "qpurge/util/posix_io.h"
#include "support/files.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

using testing::message;
using testing::slurp;
using testing::TestSpool;

bool parse(const std::string& data, Message& msg) {
  MemorySource src(data);
  RecordReader reader;
  std::string error;
  return parse_queue_file(src, reader, msg, error);
}

class CrossOffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ =
        spool_.root() + "/" + spool_.put_message("hold", "ABC123", message("s@x.org", {"a@dead.example", "b@ok.org"}));
    ASSERT_TRUE(parse(slurp(path_), before_));
    fd_ = Fd(::open(path_.c_str(), O_RDWR));
  }
  TestSpool spool_;
  std::string path_;
  Message before_;
  Fd fd_;
};

TEST_F(CrossOffTest, RewritesOnlyTheTypeByte) {
  const std::string old = slurp(path_);
  const std::uint64_t off = before_.recipients[0].offset;
  std::string error;
  ASSERT_TRUE(cross_off(fd_.get(), off, "a@dead.example", error)) << error;
  const std::string now = slurp(path_);
  ASSERT_EQ(now.size(), old.size());
  for (std::size_t i = 0; i < old.size(); ++i)
    if (i != off) {
      ASSERT_EQ(now[i], old[i]) << "byte " << i;
    }
  EXPECT_EQ(now[off], 'D');
  Message after;
  ASSERT_TRUE(parse(now, after));
  ASSERT_EQ(after.recipients.size(), 1u);
  EXPECT_EQ(after.str(after.recipients[0].address), "b@ok.org");
  ASSERT_EQ(after.done.size(), 1u);
  EXPECT_EQ(after.str(after.done[0].address), "a@dead.example");
}

TEST_F(CrossOffTest, RefusesARecipientAlreadyDone) {
  std::string error;
  ASSERT_TRUE(cross_off(fd_.get(), before_.recipients[0].offset, "a@dead.example", error));
  const std::string once = slurp(path_);
  EXPECT_FALSE(cross_off(fd_.get(), before_.recipients[0].offset, "a@dead.example", error));
  EXPECT_NE(error.find("not a pending recipient"), std::string::npos) << error;
  EXPECT_EQ(slurp(path_), once);
}

TEST_F(CrossOffTest, RefusesAnotherAddressAtTheOffset) {
  const std::string old = slurp(path_);
  std::string error;
  EXPECT_FALSE(cross_off(fd_.get(), before_.recipients[1].offset, "a@dead.example", error));
  EXPECT_NE(error.find("not the one planned"), std::string::npos) << error;
  EXPECT_EQ(slurp(path_), old);
}

TEST_F(CrossOffTest, RefusesAnOffsetThatIsNoRecipient) {
  const std::string old = slurp(path_);
  std::string error;
  EXPECT_FALSE(cross_off(fd_.get(), before_.recipients[0].offset + 1, "a@dead.example", error));
  EXPECT_FALSE(cross_off(fd_.get(), old.size() + 10, "a@dead.example", error));
  EXPECT_NE(error.find("no record there"), std::string::npos) << error;
  EXPECT_EQ(slurp(path_), old);
}

}  // namespace
}  // namespace qpurge

namespace qpurge {
namespace {

// The same in memory: the copy a restore makes of a canceled message.
TEST_F(CrossOffTest, CrossesOffInACopyInMemory) {
  std::string data = slurp(path_);
  const std::string old = data;
  const std::uint64_t off = before_.recipients[1].offset;
  std::string error;
  char type = 0;
  std::string address;
  ASSERT_TRUE(recipient_record_in(data, off, type, address, error)) << error;
  EXPECT_EQ(type, 'R');
  EXPECT_EQ(address, "b@ok.org");
  ASSERT_TRUE(cross_off_in(data, off, "b@ok.org", error)) << error;
  EXPECT_EQ(data.substr(0, off), old.substr(0, off));
  EXPECT_EQ(data[off], 'D');
  EXPECT_EQ(data.substr(off + 1), old.substr(off + 1));
  EXPECT_EQ(slurp(path_), old);  // the file is not touched
  EXPECT_FALSE(cross_off_in(data, off, "b@ok.org", error));
  EXPECT_NE(error.find("not a pending recipient"), std::string::npos) << error;
  EXPECT_FALSE(cross_off_in(data, before_.recipients[0].offset, "x@ok.org", error));
  EXPECT_EQ(error, "offset " + std::to_string(before_.recipients[0].offset) + ": recipient is not the one planned");
}

}  // namespace
}  // namespace qpurge
