#include "broker/kafka/fetch_session_cache.h"

#include <gtest/gtest.h>

#include <climits>

namespace millrace::broker {
namespace {

FetchTarget by_name(const std::string& topic, int32_t partition, int64_t offset = 0) {
  return FetchTarget{FetchKey{{}, topic, partition}, FetchParams{offset, 1 << 20, -1, -1}};
}

FetchTarget by_id(uint8_t id, int32_t partition, int64_t offset = 0) {
  TopicId t{};
  t[15] = id;
  return FetchTarget{FetchKey{t, "", partition}, FetchParams{offset, 1 << 20, -1, -1}};
}

PartitionResult quiet(int64_t hw, int64_t lso = 0) { return PartitionResult{0, hw, lso, false}; }

class FetchSessionCacheTest : public ::testing::Test {
 protected:
  FetchSessionCache cache{{.max_slots = 3, .eviction_ms = 1000, .seed = 42}};

  // A full fetch that opens a session over `parts`, answered with high watermark 10 each.
  int32_t open(std::vector<FetchTarget> parts, int64_t now = 0, bool ids = false) {
    SessionRequest req{0, kInitialEpoch, ids, parts, {}};
    auto p = cache.plan(req, now);
    EXPECT_EQ(p.mode, FetchMode::kFull);
    std::vector<PartitionResult> results(p.partitions.size(), quiet(10));
    return cache.create(ids, p.partitions, results, now);
  }
  FetchPlan incremental(int32_t id, int32_t epoch, std::vector<FetchTarget> parts = {},
                        std::vector<FetchKey> forgotten = {}, int64_t now = 0, bool ids = false) {
    return cache.plan(SessionRequest{id, epoch, ids, std::move(parts), std::move(forgotten)}, now);
  }
};

TEST_F(FetchSessionCacheTest, SessionlessRequestCreatesNothing) {
  auto p = cache.plan(SessionRequest{0, kFinalEpoch, false, {by_name("t", 0)}, {}}, 0);
  EXPECT_EQ(p.mode, FetchMode::kSessionless);
  EXPECT_EQ(p.partitions.size(), 1u);
  EXPECT_EQ(cache.stats().sessions, 0);
}

TEST_F(FetchSessionCacheTest, FullFetchOpensSessionAtEpochOne) {
  int32_t id = open({by_name("t", 0), by_name("t", 1)});
  ASSERT_GT(id, 0);
  auto s = cache.stats();
  EXPECT_EQ(s.sessions, 1);
  EXPECT_EQ(s.partitions, 2);
  EXPECT_EQ(incremental(id, 2).error, SessionError::kInvalidEpoch);
  auto p = incremental(id, 1);
  EXPECT_EQ(p.mode, FetchMode::kIncremental);
  EXPECT_EQ(p.epoch, 2);
  EXPECT_EQ(p.partitions.size(), 2u);  // every session partition is read
  EXPECT_EQ(cache.stats().incremental_fetches, 1u);
}

TEST_F(FetchSessionCacheTest, UnknownSessionIdIsNotFound) {
  auto p = incremental(12345, 1);
  EXPECT_EQ(p.mode, FetchMode::kError);
  EXPECT_EQ(p.error, SessionError::kIdNotFound);
}

TEST_F(FetchSessionCacheTest, DuplicateRequestGetsInvalidEpoch) {
  int32_t id = open({by_name("t", 0)});
  ASSERT_EQ(incremental(id, 1).mode, FetchMode::kIncremental);
  auto again = incremental(id, 1);
  EXPECT_EQ(again.mode, FetchMode::kError);
  EXPECT_EQ(again.error, SessionError::kInvalidEpoch);
}

TEST_F(FetchSessionCacheTest, IncrementalOmitsUnchangedPartitions) {
  int32_t id = open({by_name("t", 0), by_name("t", 1), by_name("t", 2)});
  auto p = incremental(id, 1);
  ASSERT_EQ(p.partitions.size(), 3u);
  // t-0 unchanged, t-1 has records, t-2's high watermark moved.
  std::vector<PartitionResult> r = {quiet(10), {0, 10, 0, true}, quiet(11)};
  std::vector<bool> include;
  ASSERT_EQ(cache.finish_incremental(p, r, include), SessionError::kNone);
  EXPECT_EQ(include, (std::vector<bool>{false, true, true}));
  // Sent partitions move to the back: t-0 is read first next time.
  auto next = incremental(id, 2);
  ASSERT_EQ(next.partitions.size(), 3u);
  EXPECT_EQ(next.partitions[0].key.partition, 0);
  EXPECT_EQ(next.partitions[1].key.partition, 1);
  EXPECT_EQ(next.partitions[2].key.partition, 2);
  // Nothing changed since: nothing sent.
  ASSERT_EQ(cache.finish_incremental(next, {quiet(10), quiet(10), quiet(11)}, include), SessionError::kNone);
  EXPECT_EQ(include, (std::vector<bool>{false, false, false}));
}

TEST_F(FetchSessionCacheTest, LogStartOffsetChangeIsSent) {
  int32_t id = open({by_name("t", 0)});
  auto p = incremental(id, 1);
  std::vector<bool> include;
  ASSERT_EQ(cache.finish_incremental(p, {quiet(10, 5)}, include), SessionError::kNone);
  EXPECT_EQ(include, std::vector<bool>{true});
}

TEST_F(FetchSessionCacheTest, ErrorIsAlwaysSentAndResentWhenItClears) {
  int32_t id = open({by_name("t", 0)});
  std::vector<bool> include;
  auto p = incremental(id, 1);
  ASSERT_EQ(cache.finish_incremental(p, {{3, 10, 0, false}}, include), SessionError::kNone);
  EXPECT_EQ(include, std::vector<bool>{true});
  p = incremental(id, 2);
  ASSERT_EQ(cache.finish_incremental(p, {{3, 10, 0, false}}, include), SessionError::kNone);
  EXPECT_EQ(include, std::vector<bool>{true});
  // The error is gone and the watermark is what it was before: still sent.
  p = incremental(id, 3);
  ASSERT_EQ(cache.finish_incremental(p, {quiet(10)}, include), SessionError::kNone);
  EXPECT_EQ(include, std::vector<bool>{true});
}

TEST_F(FetchSessionCacheTest, IncrementalAddsUpdatesAndForgets) {
  int32_t id = open({by_name("t", 0), by_name("t", 1)});
  auto p = incremental(id, 1, {by_name("t", 0, 77), by_name("u", 0)}, {FetchKey{{}, "t", 1}});
  ASSERT_EQ(p.mode, FetchMode::kIncremental);
  ASSERT_EQ(p.partitions.size(), 2u);
  EXPECT_EQ(p.partitions[0].key.topic, "t");
  EXPECT_EQ(p.partitions[0].params.fetch_offset, 77);
  EXPECT_EQ(p.partitions[1].key.topic, "u");
  EXPECT_EQ(cache.stats().partitions, 2);
  // A new partition has no cached state: sent even without records.
  std::vector<bool> include;
  ASSERT_EQ(cache.finish_incremental(p, {quiet(10), quiet(0)}, include), SessionError::kNone);
  EXPECT_EQ(include, (std::vector<bool>{false, true}));
}

TEST_F(FetchSessionCacheTest, ForgettingEveryPartitionClosesTheSession) {
  int32_t id = open({by_name("t", 0)});
  auto p = incremental(id, 1, {}, {FetchKey{{}, "t", 0}});
  EXPECT_EQ(p.mode, FetchMode::kSessionless);
  EXPECT_EQ(cache.stats().sessions, 0);
  EXPECT_EQ(cache.stats().partitions, 0);
  EXPECT_EQ(incremental(id, 2).error, SessionError::kIdNotFound);
}

TEST_F(FetchSessionCacheTest, FullFetchNamingASessionClosesIt) {
  int32_t id = open({by_name("t", 0)});
  auto p = cache.plan(SessionRequest{id, kFinalEpoch, false, {by_name("t", 0)}, {}}, 0);
  EXPECT_EQ(p.mode, FetchMode::kSessionless);
  EXPECT_EQ(cache.stats().sessions, 0);
  EXPECT_EQ(incremental(id, 1).error, SessionError::kIdNotFound);
  // (id, 0): close and open a new one.
  int32_t a = open({by_name("t", 0)});
  p = cache.plan(SessionRequest{a, kInitialEpoch, false, {by_name("t", 0)}, {}}, 0);
  EXPECT_EQ(p.mode, FetchMode::kFull);
  EXPECT_EQ(cache.stats().sessions, 0);
}

TEST_F(FetchSessionCacheTest, TopicIdModeMustNotChange) {
  int32_t id = open({by_id(1, 0)}, 0, true);
  EXPECT_EQ(incremental(id, 1, {}, {}, 0, false).error, SessionError::kTopicIdError);
  auto p = incremental(id, 1, {by_id(2, 0)}, {}, 0, true);
  ASSERT_EQ(p.mode, FetchMode::kIncremental);
  EXPECT_EQ(p.partitions.size(), 2u);
  int32_t named = open({by_name("t", 0)});
  EXPECT_EQ(incremental(named, 1, {}, {}, 0, true).error, SessionError::kTopicIdError);
}

TEST_F(FetchSessionCacheTest, EpochWrapsToOne) {
  EXPECT_EQ(next_fetch_epoch(0), 1);
  EXPECT_EQ(next_fetch_epoch(41), 42);
  EXPECT_EQ(next_fetch_epoch(INT32_MAX), 1);
  EXPECT_EQ(next_fetch_epoch(-1), kFinalEpoch);
}

TEST_F(FetchSessionCacheTest, FullCacheWithNothingEvictableDeclines) {
  for (int i = 0; i < 3; ++i) ASSERT_GT(open({by_name("t", i)}, 0), 0);
  // All three are young (created < eviction_ms ago) and recently used.
  EXPECT_EQ(open({by_name("t", 0), by_name("t", 1)}, 500), 0);
  auto s = cache.stats();
  EXPECT_EQ(s.sessions, 3);
  EXPECT_EQ(s.evictions, 0u);
  EXPECT_EQ(s.full_fetches_declined, 1u);
}

TEST_F(FetchSessionCacheTest, StaleLeastRecentlyUsedIsEvictedFirst) {
  int32_t a = open({by_name("t", 0)}, 0);
  int32_t b = open({by_name("t", 1)}, 100);
  int32_t c = open({by_name("t", 2)}, 200);
  // a is used again at 1250; b is now the least recently used, idle > 1000 ms.
  ASSERT_EQ(incremental(a, 1, {}, {}, 1250).mode, FetchMode::kIncremental);
  int32_t d = open({by_name("t", 3)}, 1300);
  ASSERT_GT(d, 0);
  EXPECT_EQ(incremental(b, 1, {}, {}, 1400).error, SessionError::kIdNotFound);
  EXPECT_EQ(incremental(c, 1, {}, {}, 1400).mode, FetchMode::kIncremental);
  EXPECT_EQ(cache.stats().evictions, 1u);
}

TEST_F(FetchSessionCacheTest, LargerSessionEvictsSmallestOldOne) {
  int32_t a = open({by_name("t", 0), by_name("t", 1)}, 0);
  int32_t b = open({by_name("t", 2)}, 0);
  int32_t c = open({by_name("t", 3), by_name("t", 4)}, 0);
  // At 1500 all are old enough to evict; keep each recently used so none is stale.
  ASSERT_EQ(incremental(a, 1, {}, {}, 1400).mode, FetchMode::kIncremental);
  ASSERT_EQ(incremental(b, 1, {}, {}, 1400).mode, FetchMode::kIncremental);
  ASSERT_EQ(incremental(c, 1, {}, {}, 1400).mode, FetchMode::kIncremental);
  // A one-partition session may not evict a one-partition one.
  EXPECT_EQ(open({by_name("u", 0)}, 1500), 0);
  // A two-partition one evicts the smallest: b.
  EXPECT_GT(open({by_name("u", 0), by_name("u", 1)}, 1500), 0);
  EXPECT_EQ(incremental(b, 2, {}, {}, 1500).error, SessionError::kIdNotFound);
  EXPECT_EQ(incremental(a, 2, {}, {}, 1500).mode, FetchMode::kIncremental);
  auto s = cache.stats();
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.sessions, 3);
  EXPECT_EQ(s.partitions, 6);
}

TEST_F(FetchSessionCacheTest, SessionClosedMeanwhileIsReportedAtFinish) {
  int32_t id = open({by_name("t", 0)});
  auto p = incremental(id, 1);
  // Another request closes the session while this one long-polls.
  cache.plan(SessionRequest{id, kFinalEpoch, false, {}, {}}, 0);
  std::vector<bool> include;
  EXPECT_EQ(cache.finish_incremental(p, {quiet(10)}, include), SessionError::kIdNotFound);
  EXPECT_EQ(include, std::vector<bool>{false});
}

TEST_F(FetchSessionCacheTest, ZeroSlotsNeverCreates) {
  FetchSessionCache none({.max_slots = 0, .eviction_ms = 1000, .seed = 1});
  EXPECT_EQ(none.create(false, {by_name("t", 0)}, {quiet(1)}, 0), 0);
  EXPECT_EQ(none.stats().sessions, 0);
}

}  // namespace
}  // namespace millrace::broker
