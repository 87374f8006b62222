// Producer id expiry (producer.id.expiration.ms) with an injected clock, in
// ProducerStateManager and through a Log's checkpoints and snapshot.
#include <gtest/gtest.h>

#include "protocol/record/crc32c.h"
#include "protocol/wire/writer.h"
#include "storage/log.h"
#include "storage/producer_state.h"
#include "storage/test_util.h"

namespace millrace::storage {
namespace {

using testing::make_batch;

TEST(ProducerExpiryTest, ForgetsAProducerExactlyAtTheExpiration) {
  ProducerStateManager m;
  m.update({1, 0, 0, 4}, 0, 4, 50, 1000);
  m.update({2, 0, 0, 0}, 5, 5, 50, 1050);
  EXPECT_EQ(m.remove_expired(1099, 100), 0u);
  EXPECT_EQ(m.remove_expired(1100, 100), 1u);  // 1: last append at 1000
  EXPECT_EQ(m.find(1), nullptr);
  ASSERT_NE(m.find(2), nullptr);
  // Forgotten means unknown: any sequence is accepted again.
  EXPECT_TRUE(m.check({1, 0, 77, 77}).status.ok());
  EXPECT_FALSE(m.check({1, 0, 77, 77}).duplicate);
  // 2 is still checked.
  EXPECT_EQ(m.check({2, 0, 5, 5}).status.code(), Errc::kOutOfOrderSequence);
}

TEST(ProducerExpiryTest, EveryAppendMovesTheLastTimestampOn) {
  ProducerStateManager m;
  m.update({1, 0, 0, 0}, 0, 0, 50, 1000);
  m.update({1, 0, 1, 1}, 1, 1, 50, 2000);
  m.update({1, 0, 2, 2}, 2, 2, 50, 1500);  // a clock that went back does not shorten it
  EXPECT_EQ(m.find(1)->last_timestamp, 2000);
  EXPECT_EQ(m.remove_expired(2099, 100), 0u);
  EXPECT_EQ(m.remove_expired(2100, 100), 1u);
}

TEST(ProducerExpiryTest, SnapshotKeepsTheLastTimestamp) {
  ProducerStateManager m;
  m.update({1, 3, 0, 9}, 0, 9, 50, 1234);
  auto d = ProducerStateManager::decode_snapshot(m.encode_snapshot(10));
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->first.find(1)->last_timestamp, 1234);
  EXPECT_EQ(d->first, m);
}

TEST(ProducerExpiryTest, ReadsVersionOneSnapshots) {
  // A snapshot written before last_timestamp existed.
  std::vector<uint8_t> v1;
  wire::Writer w(v1);
  w.uint8(1);
  w.int64(10);  // snapshot offset
  w.uint32(1);
  w.int64(7);   // producer id
  w.int16(2);   // epoch
  w.uint8(2);   // batches
  for (int i = 0; i < 2; ++i) {
    w.int32(i);
    w.int32(i);
    w.int64(i);
    w.int64(i);
    w.int64(500 + i);  // max timestamp
  }
  w.uint32(record::crc32c(0, v1.data(), v1.size()));
  auto d = ProducerStateManager::decode_snapshot(v1);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_NE(d->first.find(7), nullptr);
  EXPECT_EQ(d->first.find(7)->epoch, 2);
  EXPECT_EQ(d->first.find(7)->last_timestamp, 501);  // its newest batch
  EXPECT_EQ(d->first.find(7)->batches.size(), 2u);
}

class ProducerExpiryLogTest : public ::testing::Test {
 protected:
  std::shared_ptr<Log> open_log() {
    LogOptions o;
    o.clock = [this] { return now_; };
    o.producer_id_expiration_ms = 1000;
    auto r = Log::open(dir_.path() / "p-0", o);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : nullptr;
  }
  static Result<AppendResult> append(Log& log, int64_t pid, int32_t seq, int64_t timestamp = 1) {
    auto b = make_batch({{"k", "v", timestamp}}, pid, 0, seq);
    return log.append(b, LeaderEpoch(0));
  }

  testing::TempDir dir_;
  int64_t now_ = 1'000'000;
};

// Measured by the broker's clock, not the batch's timestamp: a producer whose
// records carry an ancient CreateTime is not forgotten at once.
TEST_F(ProducerExpiryLogTest, IdleProducersAreForgottenAtCheckpointAndLeaveTheSnapshot) {
  auto log = open_log();
  ASSERT_TRUE(append(*log, 1, 0).ok());  // pid 1 at t0, with timestamp 1 (ancient)
  now_ += 600;
  ASSERT_TRUE(append(*log, 2, 0).ok());  // pid 2 at t0 + 600
  now_ += 399;                           // t0 + 999: nobody is 1000 ms idle
  ASSERT_TRUE(log->write_checkpoints().ok());
  auto dup = append(*log, 1, 0);
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(append(*log, 1, 5).code(), Errc::kOutOfOrderSequence);  // still tracked

  now_ += 1;  // t0 + 1000: pid 1 expires, pid 2 (400 ms idle) stays
  ASSERT_TRUE(log->write_checkpoints().ok());
  ASSERT_TRUE(log->close().ok());
  log = open_log();  // state from the snapshot only
  auto again = append(*log, 1, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->duplicate);  // forgotten: the old batch is new again
  EXPECT_TRUE(append(*log, 2, 0)->duplicate);
  EXPECT_EQ(append(*log, 2, 7).code(), Errc::kOutOfOrderSequence);
}

TEST(ProducerSequenceTest, LastSequenceWrapsPastInt32Max) {
  EXPECT_EQ(last_sequence(5, 4), 9);
  EXPECT_EQ(last_sequence(INT32_MAX - 1, 1), INT32_MAX);
  EXPECT_EQ(last_sequence(INT32_MAX - 1, 2), 0);
  EXPECT_EQ(last_sequence(INT32_MAX, 4), 3);
  EXPECT_EQ(last_sequence(-1, 4), -1);
}

// Recovery replays the batches after the snapshot. It computed the last
// sequence as base + delta in int32 (overflow: a negative sequence), so after
// a crash a producer whose batch wrapped past INT32_MAX was refused its next
// batch (OUT_OF_ORDER_SEQUENCE) until it bumped its epoch.
TEST_F(ProducerExpiryLogTest, ReplayAfterACrashWrapsTheSequenceLikeTheAppendPath) {
  auto log = open_log();
  auto b = make_batch({{"k", "1"}, {"k", "2"}, {"k", "3"}}, 9, 0, INT32_MAX - 1);  // seqs MAX-1, MAX, 0
  ASSERT_TRUE(log->append(b, LeaderEpoch(0)).ok());
  // What kill -9 leaves: no snapshot (no checkpoint yet), so the batch is replayed.
  std::filesystem::path copy = dir_.path() / "crashed";
  std::filesystem::copy(dir_.path() / "p-0", copy, std::filesystem::copy_options::recursive);
  ASSERT_FALSE(std::filesystem::exists(copy / "producer.snapshot"));
  LogOptions o;
  o.clock = [this] { return now_; };
  auto crashed = Log::open(copy, o);
  ASSERT_TRUE(crashed.ok()) << crashed.status().to_string();
  for (Log* l : {log.get(), crashed->get()}) {
    auto next = make_batch({{"k", "4"}}, 9, 0, 1);
    auto r = l->append(next, LeaderEpoch(0));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_FALSE(r->duplicate);
  }
}

}  // namespace
}  // namespace millrace::storage
