// SPDX-License-Identifier: MIT
// cancel_copy_test.cc - the archive side of --mixed cancel (issue 22): the
// copy a restore makes for the canceled recipients only, the name it goes
// into the queue under, and a cancel's outcome settled from the queue file.
#include "qpurge/archive/cancel_copy.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "qpurge/spool/cross_off.h"
#include "qpurge/spool/queue_file.h"
#include "qpurge/spool/queue_id.h"
#include "qpurge/util/posix_io.h"
#include "support/files.h"
#include "support/test_spool.h"

namespace qpurge {
namespace {

namespace fs = std::filesystem;
using testing::slurp;
using testing::TestSpool;

const char kId[] = "10278A74127";

class CancelCopyTest : public ::testing::Test {
 protected:
  // The original of a message to d@dead.example (canceled), k@ok.test and
  // l@ok.test (kept), in hold, and its manifest entry.
  void SetUp() override {
    rel_ = spool_.put_message("hold", kId, testing::message("s@x.test", {"d@dead.example", "k@ok.test", "l@ok.test"}));
    data_ = slurp(spool_.root() + "/" + rel_);
    Message msg;
    MemorySource src(data_);
    RecordReader reader;
    std::string error;
    ASSERT_TRUE(parse_queue_file(src, reader, msg, error)) << error;
    struct stat st;
    ::stat((spool_.root() + "/" + rel_).c_str(), &st);
    m_.queue_id = kId;
    m_.inode = st.st_ino;
    m_.cancel = true;
    for (const Recipient& r : msg.recipients)
      m_.recipients.push_back({std::string(msg.str(r.address)), "", false, r.offset, true});
    m_.canceled = {m_.recipients[0]};
  }
  std::vector<std::string> pending_in(const std::string& data) {
    testing::spit(spool_.root() + "/copy", data);
    return testing::pending_recipients(spool_.root() + "/copy");
  }

  TestSpool spool_;
  std::string rel_, data_;
  ArchivedMessage m_;
};

TEST_F(CancelCopyTest, TheCopyIsAddressedToTheCanceledRecipientsOnly) {
  std::string copy = data_, error;
  ASSERT_TRUE(canceled_recipients_copy(m_, copy, error)) << error;
  EXPECT_EQ(pending_in(copy), std::vector<std::string>{"d@dead.example"});
  ASSERT_EQ(copy.size(), data_.size());
  for (std::size_t i = 0; i < data_.size(); ++i)
    if (i != m_.recipients[1].offset && i != m_.recipients[2].offset) {
      ASSERT_EQ(copy[i], data_[i]) << "byte " << i;  // the content and every offset unchanged
    }
  std::string whole;
  ASSERT_TRUE(restore_bytes(m_, data_, whole, error));
  EXPECT_EQ(whole, copy);
  ArchivedMessage plain = m_;
  plain.cancel = false;
  ASSERT_TRUE(restore_bytes(plain, data_, whole, error));
  EXPECT_EQ(whole, data_);  // a whole message goes back as it was
}

TEST_F(CancelCopyTest, ACanceledRecipientThatIsNotPendingInTheCopyIsRefused) {
  std::string copy = data_, error;
  m_.canceled[0].offset = m_.recipients[1].offset;  // k@ok.test's record
  EXPECT_FALSE(canceled_recipients_copy(m_, copy, error));
  EXPECT_EQ(error, "offset " + std::to_string(m_.recipients[1].offset) +
                       ": the canceled recipient is not pending there in the copy");
}

// The original ID still names the message that kept the other recipients:
// the copy gets a name of the same form that postsuper -s renames, never
// one in use.
TEST_F(CancelCopyTest, AFreshNameKeepsTheMicrosecondsAndIsFree) {
  const std::string name = fresh_queue_name(spool_.root(), kId, 4242, {});
  EXPECT_EQ(name, "102784242");
  EXPECT_TRUE(is_short_queue_id(name));
  spool_.put("deferred", "102784242", "x");
  EXPECT_EQ(fresh_queue_name(spool_.root(), kId, 4242, {}), "102784243");
  EXPECT_EQ(fresh_queue_name(spool_.root(), kId, 4242, {"102784243"}), "102784244");
  EXPECT_EQ(existing_queue_file(spool_.root(), "102784242"), spool_.root() + "/deferred/1/102784242");
  EXPECT_EQ(existing_queue_file(spool_.root(), kId), spool_.root() + "/hold/" + kId);
  const std::string long_id = "4jXQvf56qXz1bcCJ";
  const std::string long_name = fresh_queue_name(spool_.root(), long_id, 7, {});
  EXPECT_EQ(long_name, "4jXQvf56qXz7");
  EXPECT_TRUE(is_long_queue_id(long_name));
}

TEST_F(CancelCopyTest, SettledFromTheFileInHold) {
  std::string result, detail, error;
  ASSERT_TRUE(settle_cancel(spool_.root(), m_, result, detail));
  EXPECT_EQ(result, "not_attempted");
  EXPECT_EQ(detail,
            "the run stopped before its recipients were crossed off (settled from the queue file in hold): the "
            "message keeps them");
  {
    Fd fd(::open((spool_.root() + "/" + rel_).c_str(), O_RDWR));
    ASSERT_TRUE(cross_off(fd.get(), m_.canceled[0].offset, "d@dead.example", error)) << error;
  }
  ASSERT_TRUE(settle_cancel(spool_.root(), m_, result, detail));
  EXPECT_EQ(result, "done");
  m_.canceled.push_back(m_.recipients[1]);
  ASSERT_TRUE(settle_cancel(spool_.root(), m_, result, detail));
  EXPECT_EQ(result, "failed");
  EXPECT_EQ(detail, "1 of its 2 canceled recipients are crossed off (settled from the queue file in hold)");
}

// Out of hold (released, delivered) the recipients' marks say nothing
// certain: a delivery marks them done too. Another inode is another message.
TEST_F(CancelCopyTest, NotSettledOutOfHoldOrForAnotherFile) {
  std::string result, detail;
  m_.inode += 1;
  EXPECT_FALSE(settle_cancel(spool_.root(), m_, result, detail));
  m_.inode -= 1;
  fs::create_directories(spool_.root() + "/deferred/1");
  fs::rename(spool_.root() + "/" + rel_, spool_.root() + "/deferred/1/" + kId);
  EXPECT_FALSE(settle_cancel(spool_.root(), m_, result, detail));
}

}  // namespace
}  // namespace qpurge
