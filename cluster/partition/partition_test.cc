// Partition: replicate()'s two stages for each acks value, what readers see
// (the high watermark) before and after the sync, its own waiters, and the
// leader / leader-epoch checks. Deterministic: fsyncs run only when the test
// runs the queued flush jobs, and io_context::poll() never blocks.
#include "cluster/partition/partition.h"

#include <utility>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include "cluster/partition/replicator.h"
#include "protocol/record/batch_builder.h"
#include "storage/test_util.h"

namespace millrace::cluster {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using storage::testing::simple_batch;
using storage::testing::TempDir;

// Runs the log's fsyncs when the test says so.
class QueuedFlusher : public storage::FlushExecutor {
 public:
  void post(std::function<void()> job) override { jobs.push_back(std::move(job)); }
  void run_all() {
    while (!jobs.empty()) {
      auto j = std::move(jobs.front());
      jobs.pop_front();
      j();
    }
  }
  std::deque<std::function<void()>> jobs;
};

constexpr int32_t kSelf = 3;

class PartitionTest : public ::testing::Test {
 protected:
  // A partition on a buffered log (appends wait in user space until written
  // out), with fsync before acks=all or not.
  std::shared_ptr<Partition> make(bool sync_on_acks_all, std::string topic = "t") {
    storage::LogOptions o;
    o.flusher = &flusher_;
    o.append_buffer_bytes = 64 << 10;
    o.hw_policy = sync_on_acks_all ? storage::HwPolicy::kOnFlush : storage::HwPolicy::kOnAppend;
    auto path = dir_.path() / topic;
    path += "-0";
    auto log = storage::Log::open(path, o);
    EXPECT_TRUE(log.ok()) << log.status().to_string();
    return std::make_shared<Partition>(storage::TopicPartition{topic, 0}, std::move(log).value(), sole_leader(kSelf),
                                       PartitionOptions{.sync_on_acks_all = sync_on_acks_all});
  }

  Replicated replicate(Partition& p, int16_t acks, int n = 3) {
    batch_ = simple_batch(n);
    return p.replicate(batch_, acks, io_.get_executor());
  }

  // Awaits stage 2 on io_; returns its status once it completed.
  std::shared_ptr<std::optional<storage::Status>> await(std::shared_ptr<AckWait> a) {
    auto out = std::make_shared<std::optional<storage::Status>>();
    asio::co_spawn(
        io_,
        [a, out]() -> asio::awaitable<void> {
          auto st = co_await a->wait();
          *out = st;
        },
        asio::detached);
    io_.poll();
    return out;
  }

  TempDir dir_;
  QueuedFlusher flusher_;
  asio::io_context io_;
  std::vector<uint8_t> batch_;
};

TEST_F(PartitionTest, AcksZeroAnswersAtOnceAndLeavesTheBuffer) {
  auto p = make(true);
  auto r = replicate(*p, 0);
  ASSERT_TRUE(r.appended.ok()) << r.appended.status().to_string();
  ASSERT_TRUE(r.acks && r.acks->ready());
  EXPECT_TRUE(r.acks->status().ok());
  EXPECT_EQ(r.appended->base_offset.value(), 0);
  EXPECT_EQ(r.appended->last_offset.value(), 2);
  EXPECT_LT(p->log()->written_end_offset().value(), 3);  // the linger timer's job
}

TEST_F(PartitionTest, AcksOneIsWrittenOutBeforeItAnswers) {
  auto p = make(true);
  auto r = replicate(*p, 1);
  ASSERT_TRUE(r.appended.ok());
  ASSERT_NE(r.acks, nullptr);
  ASSERT_TRUE(r.acks->ready());
  EXPECT_TRUE(r.acks->status().ok());
  EXPECT_GE(p->log()->written_end_offset().value(), 3);  // survives kill -9
  // Acknowledged, yet readers see it only once synced (the log's own
  // visibility fsync under kOnFlush).
  EXPECT_EQ(p->high_watermark().value(), 0);
  flusher_.run_all();
  EXPECT_EQ(p->high_watermark().value(), 3);
}

TEST_F(PartitionTest, AcksAllWaitsForTheSyncAndReadersSeeOnlySyncedRecords) {
  auto p = make(true);
  auto r = replicate(*p, -1);
  ASSERT_TRUE(r.appended.ok());
  ASSERT_NE(r.acks, nullptr);
  ASSERT_FALSE(r.acks->ready());
  auto st = await(r.acks);
  EXPECT_FALSE(st->has_value());                // stage 2 still waits
  EXPECT_EQ(p->high_watermark().value(), 0);    // not visible before the fsync
  auto region = p->log()->read(Offset(0), 1 << 20, p->high_watermark());
  ASSERT_TRUE(region.ok());
  EXPECT_TRUE(region->empty());
  flusher_.run_all();
  io_.poll();
  ASSERT_TRUE(st->has_value());
  EXPECT_TRUE((*st)->ok()) << (*st)->to_string();
  EXPECT_EQ(p->high_watermark().value(), 3);
  EXPECT_GE(p->log()->recovery_point().value(), 3);
}

TEST_F(PartitionTest, AcksAllWithoutSyncIsWrittenOut) {
  auto p = make(false);
  auto r = replicate(*p, -1);
  ASSERT_TRUE(r.appended.ok());
  ASSERT_NE(r.acks, nullptr);
  ASSERT_TRUE(r.acks->ready());
  EXPECT_TRUE(r.acks->status().ok());
  EXPECT_GE(p->log()->written_end_offset().value(), 3);
  EXPECT_TRUE(flusher_.jobs.empty());
  EXPECT_EQ(p->high_watermark().value(), 3);  // kOnAppend
}

TEST_F(PartitionTest, RefusedAppendIsAnErrorValueWithNothingToAwait) {
  auto p = make(true);
  std::vector<uint8_t> garbage(80, 0x7f);
  auto r = p->replicate(garbage, -1, io_.get_executor());
  EXPECT_FALSE(r.appended.ok());
  EXPECT_EQ(r.acks, nullptr);
  EXPECT_TRUE(flusher_.jobs.empty());
  EXPECT_EQ(p->log()->log_end_offset().value(), 0);
}

TEST_F(PartitionTest, ReplicateWakesOnlyThisPartitionsWaiters) {
  auto a = make(false, "a");
  auto b = make(false, "b");
  auto va = a->hw_waiters().version();
  auto vb = b->hw_waiters().version();
  ASSERT_TRUE(replicate(*a, 1).appended.ok());
  EXPECT_GT(a->hw_waiters().version(), va);
  EXPECT_EQ(b->hw_waiters().version(), vb);
}

// Under kOnFlush readers see nothing until the fsync, so an append must not
// wake parked fetches (each would re-read and park again); the flush that
// moves the high watermark does (the log's on_hw_moved, here called by hand as
// PartitionManager::notify_hw_moved would).
TEST_F(PartitionTest, AppendUnderSyncDoesNotWakeFetchesTheFlushDoes) {
  auto p = make(true);
  auto v0 = p->hw_waiters().version();
  ASSERT_TRUE(replicate(*p, -1).appended.ok());
  EXPECT_EQ(p->hw_waiters().version(), v0);
  flusher_.run_all();
  EXPECT_EQ(p->high_watermark().value(), 3);
  p->notify_hw_moved();
  EXPECT_GT(p->hw_waiters().version(), v0);
}

TEST_F(PartitionTest, AppendsCarryTheCurrentLeaderEpoch) {
  auto p = make(false);
  ASSERT_TRUE(replicate(*p, 1).appended.ok());
  p->set_leadership({kSelf, LeaderEpoch(4), {kSelf}, {kSelf}});
  ASSERT_TRUE(replicate(*p, 1, 2).appended.ok());
  EXPECT_EQ(p->log()->end_offset_for_epoch(LeaderEpoch(0)).end_offset.value(), 3);
  auto e4 = p->log()->end_offset_for_epoch(LeaderEpoch(4));
  EXPECT_EQ(e4.epoch.value(), 4);
  EXPECT_EQ(e4.end_offset.value(), 5);
}

TEST_F(PartitionTest, LeaderAndEpochChecks) {
  auto p = make(false);
  using E = proto::ErrorCode;
  EXPECT_EQ(p->check_leader(kSelf), E::kNone);
  EXPECT_EQ(p->check_leader(kSelf, 0), E::kNone);
  EXPECT_EQ(p->check_leader(kSelf, 1), E::kUnknownLeaderEpoch);
  EXPECT_EQ(p->check_leader(kSelf + 1), E::kNotLeaderOrFollower);
  p->set_leadership({kSelf, LeaderEpoch(5), {kSelf}, {kSelf}});
  EXPECT_EQ(p->check_leader(kSelf, 4), E::kFencedLeaderEpoch);
  EXPECT_EQ(p->check_leader(kSelf, 5), E::kNone);
  EXPECT_EQ(p->check_leader(kSelf, 6), E::kUnknownLeaderEpoch);
  EXPECT_EQ(p->check_leader(kSelf, -1), E::kNone);  // no epoch in the request
  EXPECT_TRUE(p->is_leader(kSelf));
  p->set_leadership({kSelf + 1, LeaderEpoch(6), {kSelf, kSelf + 1}, {kSelf + 1}});
  EXPECT_FALSE(p->is_leader(kSelf));
  EXPECT_EQ(p->check_leader(kSelf, 6), E::kNotLeaderOrFollower);
  EXPECT_EQ(p->leadership().replicas, (std::vector<int32_t>{kSelf, kSelf + 1}));
}

// A partition of several replicas is led only through its Raft group: until
// a replicator is attached, the image naming this broker leader does not let
// it append on its own (that would write outside the group's log).
TEST_F(PartitionTest, SeveralReplicasWithoutAReplicatorLeadNothing) {
  auto p = make(false);
  p->set_leadership({kSelf, LeaderEpoch(0), {kSelf, kSelf + 1, kSelf + 2}, {kSelf, kSelf + 1, kSelf + 2}});
  EXPECT_FALSE(p->is_leader(kSelf));
  EXPECT_EQ(p->check_leader(kSelf), proto::ErrorCode::kNotLeaderOrFollower);
  auto r = replicate(*p, 1);
  ASSERT_FALSE(r.appended.ok());
  EXPECT_EQ(r.appended.code(), storage::Errc::kClosed);
  EXPECT_EQ(p->log()->log_end_offset(), Offset(0));
}

// With a replicator, produce and leadership are its.
TEST_F(PartitionTest, AReplicatorTakesProduceAndLeadership) {
  struct Fake : Replicator {
    Replicated replicate(std::span<uint8_t>, int16_t, asio::any_io_executor ex) override {
      ++calls;
      return {storage::AppendResult{Offset(41), Offset(43), -1, Offset(0)}, AckWait::done({}, ex)};
    }
    LeadershipFacts facts() const override { return {kSelf, LeaderEpoch(7), {kSelf, 1, 2}, {kSelf, 1}}; }
    LogStartMove move_log_start(Offset, asio::any_io_executor ex) override { return {{}, AckWait::done({}, ex)}; }
    int calls = 0;
  };
  auto p = make(false);
  auto fake = std::make_shared<Fake>();
  p->set_leadership({kSelf + 1, LeaderEpoch(0), {kSelf, 1, 2}, {kSelf, 1, 2}});
  p->set_replicator(fake);
  EXPECT_TRUE(p->is_leader(kSelf));
  EXPECT_EQ(p->check_leader(kSelf, 7), proto::ErrorCode::kNone);
  EXPECT_EQ(p->check_leader(kSelf, 6), proto::ErrorCode::kFencedLeaderEpoch);
  auto r = replicate(*p, -1);
  ASSERT_TRUE(r.appended.ok());
  EXPECT_EQ(r.appended->base_offset, Offset(41));
  EXPECT_EQ(fake->calls, 1);
  EXPECT_EQ(p->log()->log_end_offset(), Offset(0));  // nothing written around it
  p->set_replicator(nullptr);
  EXPECT_FALSE(p->is_leader(kSelf));
}

// A follower's replicator: another broker leads at epoch 4, this one is a replica.
struct FollowerOf : Replicator {
  explicit FollowerOf(std::vector<int32_t> replicas) : replicas(std::move(replicas)) {}
  Replicated replicate(std::span<uint8_t>, int16_t, asio::any_io_executor) override {
    return {storage::Status(storage::Errc::kClosed, "follower"), nullptr};
  }
  LeadershipFacts facts() const override { return {kSelf + 1, LeaderEpoch(4), replicas, replicas}; }
  LogStartMove move_log_start(Offset, asio::any_io_executor) override {
    return {storage::Status(storage::Errc::kClosed, "follower"), nullptr};
  }
  std::vector<int32_t> replicas;
};

// A consumer (Fetch v11+) may read from a follower: check_replica lets it
// through on a replica whose Raft group is open here, with Kafka's epoch
// checks against the epoch the follower knows; check_leader still refuses.
TEST_F(PartitionTest, FollowerServesConsumersWithItsOwnEpochChecks) {
  using E = proto::ErrorCode;
  auto p = make(false);
  p->set_leadership({kSelf + 1, LeaderEpoch(0), {kSelf + 1, kSelf, 1}, {kSelf + 1, kSelf, 1}});
  EXPECT_EQ(p->check_replica(kSelf), E::kNotLeaderOrFollower) << "no Raft group here: no follower";
  p->set_replicator(std::make_shared<FollowerOf>(std::vector<int32_t>{kSelf + 1, kSelf, 1}));
  EXPECT_EQ(p->check_leader(kSelf), E::kNotLeaderOrFollower);
  EXPECT_EQ(p->check_replica(kSelf), E::kNone);
  EXPECT_EQ(p->check_replica(kSelf, 4), E::kNone);
  EXPECT_EQ(p->check_replica(kSelf, 3), E::kFencedLeaderEpoch);
  EXPECT_EQ(p->check_replica(kSelf, 5), E::kUnknownLeaderEpoch);
  EXPECT_EQ(p->check_replica(kSelf + 7), E::kNotLeaderOrFollower) << "not a replica at all";
  p->set_replicator(std::make_shared<FollowerOf>(std::vector<int32_t>{kSelf + 1, 1, 2}));
  EXPECT_EQ(p->check_replica(kSelf), E::kNotLeaderOrFollower) << "reassigned away";
  // A partition of one replica led elsewhere has no follower.
  auto single = make(false, "single");
  single->set_leadership({kSelf + 1, LeaderEpoch(0), {kSelf + 1}, {kSelf + 1}});
  EXPECT_EQ(single->check_replica(kSelf), E::kNotLeaderOrFollower);
  // On the leader, check_replica is check_leader.
  auto led = make(false, "led");
  led->set_leadership({kSelf, LeaderEpoch(2), {kSelf}, {kSelf}});
  EXPECT_EQ(led->check_replica(kSelf, 2), E::kNone);
  EXPECT_EQ(led->check_replica(kSelf, 1), E::kFencedLeaderEpoch);
  EXPECT_EQ(led->check_replica(kSelf, 3), E::kUnknownLeaderEpoch);
}

// A batch at `base` of n records, leader epoch 4: data, or Raft's entries
// (control batches without the transactional bit).
std::vector<uint8_t> batch_at(int64_t base, int n, bool control) {
  record::BatchOptions o;
  o.base_offset = base;
  o.partition_leader_epoch = 4;
  o.control = control;
  record::BatchBuilder b(o);
  const std::vector<uint8_t> key = {0, 0, 0, 2};
  for (int i = 0; i < n; ++i)
    b.append(1000, control ? std::optional<record::Bytes>(key) : std::nullopt, record::as_bytes(std::string("v")));
  std::vector<uint8_t> out;
  EXPECT_TRUE(b.finish(out).ok());
  return out;
}

// A follower's log holds entries past the commit it learned (its high
// watermark): a consumer sees only what is below it, never its log end, and
// never Raft's own entries. Past the log end: OFFSET_OUT_OF_RANGE.
TEST_F(PartitionTest, ConsumerReadStopsAtTheFollowersHighWatermark) {
  auto p = make(false);
  p->set_leadership({kSelf + 1, LeaderEpoch(4), {kSelf + 1, kSelf, 1}, {kSelf + 1, kSelf, 1}});
  p->set_replicator(std::make_shared<FollowerOf>(std::vector<int32_t>{kSelf + 1, kSelf, 1}));
  p->log()->set_manual_high_watermark();
  // [0,2] data, 3 Raft's LeaderChange, [4,5] data, [6,8] data.
  std::vector<uint8_t> all;
  for (auto part : {batch_at(0, 3, false), batch_at(3, 1, true), batch_at(4, 2, false), batch_at(6, 3, false)})
    all.insert(all.end(), part.begin(), part.end());
  ASSERT_TRUE(p->log()->append_replicated(all).ok());
  ASSERT_EQ(p->log()->log_end_offset(), Offset(9));
  p->log()->set_high_watermark(Offset(6));  // the commit learned from the leader: 5

  auto first = p->read_for_consumer(Offset(1), 1 << 20);
  EXPECT_EQ(first.high_watermark, Offset(6));
  ASSERT_TRUE(first.region.ok());
  EXPECT_EQ(first.region->first_offset, 0);
  EXPECT_EQ(first.region->last_offset, 2) << "stops before Raft's entry";
  auto skipped = p->read_for_consumer(Offset(3), 1 << 20);
  ASSERT_TRUE(skipped.region.ok());
  EXPECT_FALSE(skipped.region->raft_control);
  EXPECT_EQ(skipped.region->first_offset, 4) << "Raft's entry is stepped over";
  EXPECT_EQ(skipped.region->last_offset, 5) << "never past the high watermark, though the log holds [6,8]";
  for (int64_t at : {6, 8, 9}) {
    auto waits = p->read_for_consumer(Offset(at), 1 << 20);
    ASSERT_TRUE(waits.region.ok()) << at;
    EXPECT_TRUE(waits.region->empty()) << "between the high watermark and the log end: nothing yet, at " << at;
  }
  auto past = p->read_for_consumer(Offset(10), 1 << 20);
  ASSERT_FALSE(past.region.ok());
  EXPECT_EQ(past.region.code(), storage::Errc::kOffsetOutOfRange) << "the consumer is ahead of this follower";

  p->log()->set_high_watermark(Offset(9));  // the leader's next commit reached it
  auto rest = p->read_for_consumer(Offset(6), 1 << 20);
  ASSERT_TRUE(rest.region.ok());
  EXPECT_EQ(rest.high_watermark, Offset(9));
  EXPECT_EQ(rest.region->last_offset, 8);
}

// Raft's entries after the last record (a leader change on an idle partition)
// are not data: a consumer that has read every record is told the data ends
// there, so it is at the end (no lag; kcat -e ends) as it would be on Kafka.
// Once a record follows, a run of them longer than a read's skips is crossed.
TEST_F(PartitionTest, RaftEntriesAfterTheLastRecordAreNotTheConsumersToWaitFor) {
  auto p = make(false);
  p->set_leadership({kSelf + 1, LeaderEpoch(4), {kSelf + 1, kSelf, 1}, {kSelf + 1, kSelf, 1}});
  p->set_replicator(std::make_shared<FollowerOf>(std::vector<int32_t>{kSelf + 1, kSelf, 1}));
  p->log()->set_manual_high_watermark();
  std::vector<uint8_t> all = batch_at(0, 3, false);
  for (int i = 0; i < 2 * Partition::kMaxRaftControlSkipped; ++i) {  // [3, 130]: one batch each
    auto entry = batch_at(3 + i, 1, true);
    all.insert(all.end(), entry.begin(), entry.end());
  }
  ASSERT_TRUE(p->log()->append_replicated(all).ok());
  const int64_t end = 3 + 2 * Partition::kMaxRaftControlSkipped;
  p->log()->set_high_watermark(Offset(end));
  EXPECT_EQ(p->consumer_high_watermark(Offset(end)), Offset(3));
  auto read = p->read_for_consumer(Offset(0), 1 << 20);
  ASSERT_TRUE(read.region.ok());
  EXPECT_EQ(read.region->last_offset, 2);
  EXPECT_EQ(read.high_watermark, Offset(3)) << "told the data ends after its last record";
  auto at_end = p->read_for_consumer(Offset(3), 1 << 20);
  ASSERT_TRUE(at_end.region.ok());
  EXPECT_TRUE(at_end.region->empty());
  EXPECT_EQ(at_end.high_watermark, Offset(3));

  auto record = batch_at(end, 2, false);
  ASSERT_TRUE(p->log()->append_replicated(record).ok());
  p->log()->set_high_watermark(Offset(end + 2));
  auto next = p->read_for_consumer(Offset(3), 1 << 20);
  ASSERT_TRUE(next.region.ok());
  ASSERT_FALSE(next.region->empty()) << "stuck behind " << 2 * Partition::kMaxRaftControlSkipped << " Raft entries";
  EXPECT_EQ(next.region->first_offset, end);
  EXPECT_EQ(next.region->last_offset, end + 1);
  EXPECT_EQ(next.high_watermark, Offset(end + 2));
}

}  // namespace
}  // namespace millrace::cluster
