// Compaction in bounded memory: the dedupe map (offset_map.h), partial passes
// when the map fills, resuming from the cleaner offset, and a seeded model
// test against a "latest value per key" oracle (MILLRACE_SEED / MILLRACE_SEEDS).
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "storage/log.h"
#include "storage/offset_map.h"
#include "storage/test_util.h"

namespace millrace::storage {
namespace {

namespace fs = std::filesystem;
using testing::make_batch;
using testing::Rec;

record::Bytes b(const std::string& s) { return record::as_bytes(s); }

TEST(OffsetMapTest, KeepsTheLatestOffsetPerKey) {
  OffsetMap m(1 << 16);
  EXPECT_EQ(m.get(b("a")), -1);
  EXPECT_TRUE(m.put(b("a"), 3));
  EXPECT_TRUE(m.put(b("b"), 4));
  EXPECT_TRUE(m.put(b("a"), 7));
  EXPECT_EQ(m.get(b("a")), 7);
  EXPECT_EQ(m.get(b("b")), 4);
  EXPECT_EQ(m.get(b("c")), -1);
  EXPECT_TRUE(m.put(b(""), 0));  // an empty key is a key
  EXPECT_EQ(m.get(b("")), 0);
  EXPECT_EQ(m.size(), 3u);
}

TEST(OffsetMapTest, FullRefusesNewKeysButUpdatesKnownOnes) {
  OffsetMap m(4 * OffsetMap::kSlotBytes);  // 4 slots, 90% of them: 3 entries
  EXPECT_EQ(m.slots(), 4u);
  ASSERT_EQ(m.max_entries(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(m.put(b("k" + std::to_string(i)), i));
  EXPECT_TRUE(m.full());
  EXPECT_FALSE(m.put(b("new"), 10));
  EXPECT_EQ(m.get(b("new")), -1);
  EXPECT_TRUE(m.put(b("k1"), 11));  // a known key needs no slot
  EXPECT_EQ(m.get(b("k1")), 11);
  EXPECT_EQ(m.size(), 3u);
}

TEST(OffsetMapTest, TinyBufferStillHoldsOneKeyAndProbesEnd) {
  OffsetMap m(0);
  EXPECT_EQ(m.slots(), 2u);
  EXPECT_EQ(m.max_entries(), 1u);
  EXPECT_TRUE(m.put(b("a"), 1));
  EXPECT_FALSE(m.put(b("b"), 2));
  EXPECT_EQ(m.get(b("b")), -1);  // the probe ends at the empty slot
}

TEST(OffsetMapTest, ManyKeysAtLoadFactor) {
  OffsetMap m(1000 * OffsetMap::kSlotBytes);
  size_t n = m.max_entries();
  for (size_t i = 0; i < n; ++i) ASSERT_TRUE(m.put(b("key-" + std::to_string(i)), static_cast<int64_t>(i)));
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(m.get(b("key-" + std::to_string(i))), static_cast<int64_t>(i));
  EXPECT_FALSE(m.put(b("one-more"), 1));
}

TEST(OffsetMapTest, HashSpreadsSimilarKeys) {
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (int i = 0; i < 10000; ++i) {
    KeyHash h = hash_key(b(std::string(static_cast<size_t>(i % 40), 'x') + std::to_string(i)));
    seen.insert({h.hi, h.lo});
  }
  EXPECT_EQ(seen.size(), 10000u);
  EXPECT_NE(hash_key(b("ab")), hash_key(b("ba")));
  EXPECT_EQ(hash_key(b("same")), hash_key(b("same")));
}

class CleanerTest : public ::testing::Test {
 protected:
  std::shared_ptr<Log> open_log(int64_t dedupe_bytes, LogConfig cfg = compacted()) {
    LogOptions o;
    o.config = cfg;
    o.clock = [this] { return now_; };
    o.cleaner_dedupe_buffer_bytes = dedupe_bytes;
    auto r = Log::open(dir_.path() / "c-0", o);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : nullptr;
  }
  static LogConfig compacted() {
    LogConfig c;
    c.cleanup_compact = true;
    c.cleanup_delete = false;
    c.delete_retention_ms = 10'000;
    return c;
  }
  static void append(Log& log, std::vector<uint8_t> bytes) {
    auto r = log.append(bytes, LeaderEpoch(0));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
  }
  static std::vector<testing::ReadRecord> read_all(Log& log) {
    std::vector<testing::ReadRecord> out;
    int64_t o = log.log_start_offset().value();
    while (o < log.log_end_offset().value()) {
      auto r = log.read(Offset(o), 1 << 20, log.log_end_offset());
      EXPECT_TRUE(r.ok()) << r.status().to_string();
      if (!r.ok() || r->empty()) break;
      auto recs = testing::decode_records(testing::read_region(*r));
      out.insert(out.end(), recs.begin(), recs.end());
      o = r->last_offset + 1;
    }
    return out;
  }
  static std::vector<int64_t> offsets(Log& log) {
    std::vector<int64_t> out;
    for (const auto& r : read_all(log)) out.push_back(r.offset);
    return out;
  }

  testing::TempDir dir_;
  int64_t now_ = 1'000'000;
};

// Five keys written twice, a map that holds three: four passes, each correct
// on its own, each stopping where the map filled.
TEST_F(CleanerTest, FullMapCleansPartiallyAndTheRestLater) {
  auto log = open_log(4 * OffsetMap::kSlotBytes);  // 3 keys per pass
  append(*log, make_batch({{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}, {"e", "1"}}));  // 0..4
  append(*log, make_batch({{"a", "2"}, {"b", "2"}, {"c", "2"}, {"d", "2"}, {"e", "2"}}));  // 5..9
  ASSERT_TRUE(log->roll().ok());
  // Pass 1 maps a, b, c (0..2) and fills at d@3: nothing older to drop yet.
  // Pass 2 maps d, e, a (3..5), full at b@6: drops a@0.
  // Pass 3 maps b, c, d (6..8), full at e@9: drops b@1, c@2, d@3.
  // Pass 4 maps e (9) and completes: drops e@4.
  const std::vector<int64_t> removed = {0, 1, 3, 1};
  const std::vector<std::vector<int64_t>> left = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, {4, 5, 6, 7, 8, 9}, {5, 6, 7, 8, 9}};
  for (size_t pass = 0; pass < removed.size(); ++pass) {
    SCOPED_TRACE("pass " + std::to_string(pass + 1));
    EXPECT_GT(log->dirty_ratio(), 0.0);
    auto st = log->compact_now();
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    EXPECT_EQ(st->records_removed, removed[pass]);
    EXPECT_EQ(offsets(*log), left[pass]);
  }
  EXPECT_EQ(log->dirty_ratio(), 0.0);
  for (const auto& r : read_all(*log)) EXPECT_EQ(r.value, "2") << r.offset;
  auto idle = log->compact_now();
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->records_removed, 0);
}

// The second pass maps only what is new since the first (from the cleaner
// offset, kept across a restart): with a map of three keys, three old keys
// plus two new ones would not fit in one pass.
TEST_F(CleanerTest, ResumesFromTheCleanerOffset) {
  {
    auto log = open_log(4 * OffsetMap::kSlotBytes);
    append(*log, make_batch({{"a", "1"}, {"b", "1"}, {"c", "1"}}));  // 0..2
    append(*log, make_batch({{"a", "2"}, {"b", "2"}, {"c", "2"}}));  // 3..5
    ASSERT_TRUE(log->roll().ok());
    auto st = log->compact_now();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->records_removed, 3);
    EXPECT_EQ(log->dirty_ratio(), 0.0);
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(4 * OffsetMap::kSlotBytes);
  EXPECT_EQ(log->dirty_ratio(), 0.0);  // the cleaner offset survived the restart
  append(*log, make_batch({{"x", "1"}, {"y", "1"}}));  // 6..7
  append(*log, make_batch({{"x", "2"}, {"y", "2"}}));  // 8..9
  ASSERT_TRUE(log->roll().ok());
  auto st = log->compact_now();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->records_removed, 2);
  EXPECT_EQ(log->dirty_ratio(), 0.0);  // one pass was enough
  EXPECT_EQ(offsets(*log), (std::vector<int64_t>{3, 4, 5, 8, 9}));
}

// A segment is rewritten and its index built while writing: reads at every
// offset (through the index) and after a restart (index files) find the right
// batch, and the old .cleaned file never outlives the swap.
TEST_F(CleanerTest, RewrittenSegmentIndexesServeReads) {
  LogConfig cfg = compacted();
  cfg.index_interval_bytes = 64;  // many index entries
  auto log = open_log(1 << 20, cfg);
  for (int i = 0; i < 200; ++i)
    append(*log, make_batch({{"k" + std::to_string(i % 7), std::string(20, 'v') + std::to_string(i), 1000 + i}}));
  ASSERT_TRUE(log->roll().ok());
  auto st = log->compact_now();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->records_removed, 193);
  auto check = [&](Log& l) {
    std::vector<int64_t> left = offsets(l);
    ASSERT_EQ(left, (std::vector<int64_t>{193, 194, 195, 196, 197, 198, 199}));
    for (int64_t o = 0; o < 200; ++o) {
      auto r = l.read(Offset(o), 1 << 20, l.log_end_offset());
      ASSERT_TRUE(r.ok()) << o;
      auto recs = testing::decode_records(testing::read_region(*r));
      ASSERT_FALSE(recs.empty()) << o;
      EXPECT_EQ(recs.front().offset, std::max<int64_t>(o, 193)) << o;
    }
    auto ts = l.offset_for_timestamp(1000 + 195);
    ASSERT_TRUE(ts.ok());
    ASSERT_TRUE(ts->has_value());
    EXPECT_EQ((*ts)->offset.value(), 195);
  };
  check(*log);
  for (const auto& e : fs::directory_iterator(dir_.path() / "c-0"))
    EXPECT_EQ(e.path().string().find(".cleaned"), std::string::npos) << e.path();
  ASSERT_TRUE(log->close().ok());
  auto again = open_log(1 << 20, cfg);
  check(*again);
}

// ---- model test ----

struct Appended {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp;
};

// Reads the whole log and checks what a consumer sees: every record is the one
// appended at its offset, and replaying the log (last write wins, a tombstone
// deletes) gives the oracle's latest value per key, with every keyless record.
void expect_consumer_view(Log& log, const std::map<int64_t, Appended>& history, const std::string& where) {
  std::map<std::string, std::string> seen, want;
  size_t keyless_seen = 0, keyless_want = 0;
  int64_t prev = -1;
  std::vector<testing::ReadRecord> recs;
  int64_t o = log.log_start_offset().value();
  while (o < log.log_end_offset().value()) {
    auto r = log.read(Offset(o), 1 << 20, log.log_end_offset());
    ASSERT_TRUE(r.ok()) << where << ": " << r.status().to_string();
    if (r->empty()) break;
    auto part = testing::decode_records(testing::read_region(*r));
    recs.insert(recs.end(), part.begin(), part.end());
    o = r->last_offset + 1;
  }
  for (const auto& r : recs) {
    ASSERT_GT(r.offset, prev) << where;
    prev = r.offset;
    auto it = history.find(r.offset);
    ASSERT_NE(it, history.end()) << where << ": offset " << r.offset << " was never appended";
    ASSERT_EQ(r.key, it->second.key) << where << " @" << r.offset;
    ASSERT_EQ(r.value, it->second.value) << where << " @" << r.offset;
    ASSERT_EQ(r.timestamp, it->second.timestamp) << where << " @" << r.offset;
    if (!r.key) ++keyless_seen;
    else if (r.value) seen[*r.key] = *r.value;
    else seen.erase(*r.key);
  }
  for (const auto& [off, a] : history) {
    if (!a.key) ++keyless_want;
    else if (a.value) want[*a.key] = *a.value;
    else want.erase(*a.key);
  }
  EXPECT_EQ(seen, want) << where;
  EXPECT_EQ(keyless_seen, keyless_want) << where;
}

// After a complete compaction of everything below an empty active segment the
// log holds exactly: the latest record of each key unless it is a tombstone
// older than the delete horizon, and every keyless record.
std::vector<int64_t> expected_after_full_compaction(const std::map<int64_t, Appended>& history, int64_t horizon) {
  std::map<std::string, int64_t> latest;
  std::vector<int64_t> out;
  for (const auto& [off, a] : history)
    if (a.key) latest[*a.key] = off;
  for (const auto& [off, a] : history) {
    if (!a.key) out.push_back(off);
    else if (latest[*a.key] == off && (a.value || a.timestamp >= horizon)) out.push_back(off);
  }
  return out;
}

void run_model(uint64_t seed, const fs::path& dir) {
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return rng() % n; };
  int64_t now = 1'000'000;
  LogOptions o;
  o.config.cleanup_compact = true;
  o.config.cleanup_delete = false;
  o.config.delete_retention_ms = 10'000;
  o.config.segment_bytes = 512 + static_cast<int64_t>(pick(4096));
  o.config.index_interval_bytes = 64 + static_cast<int32_t>(pick(1024));
  o.clock = [&now] { return now; };
  auto random_map_size = [&] { return static_cast<int64_t>(2 + pick(40)) * static_cast<int64_t>(OffsetMap::kSlotBytes); };
  o.cleaner_dedupe_buffer_bytes = random_map_size();
  const uint64_t keys = 3 + pick(60);
  auto opened = Log::open(dir, o);
  ASSERT_TRUE(opened.ok());
  std::shared_ptr<Log> log = *opened;
  std::map<int64_t, Appended> history;
  int64_t value_seq = 0;
  for (int step = 0; step < 400; ++step) {
    const std::string where = "seed " + std::to_string(seed) + " step " + std::to_string(step);
    uint64_t action = pick(100);
    if (action < 70) {
      std::vector<Rec> recs;
      size_t n = 1 + pick(6);
      for (size_t i = 0; i < n; ++i) {
        Rec r{pick(20) == 0 ? "" : "key" + std::to_string(pick(keys)), "v" + std::to_string(value_seq++), now};
        if (!r.key.empty() && pick(8) == 0) r.value.reset();
        recs.push_back(r);
      }
      auto codec = pick(4) == 0 ? record::Compression::kGzip : record::Compression::kNone;
      auto bytes = make_batch(recs, -1, -1, -1, codec);
      auto r = log->append(bytes, LeaderEpoch(0));
      ASSERT_TRUE(r.ok()) << where << ": " << r.status().to_string();
      int64_t off = r->base_offset.value();
      for (const auto& x : recs)
        history[off++] = {x.key.empty() ? std::nullopt : std::optional<std::string>(x.key), x.value, x.timestamp};
    } else if (action < 78) {
      ASSERT_TRUE(log->roll().ok());
    } else if (action < 85) {
      now += static_cast<int64_t>(pick(8000));
    } else if (action < 97) {
      auto st = log->compact_now();
      ASSERT_TRUE(st.ok()) << where << ": " << st.status().to_string();
      expect_consumer_view(*log, history, where + " after compaction");
      if (::testing::Test::HasFatalFailure()) return;
    } else {
      ASSERT_TRUE(log->close().ok());
      o.cleaner_dedupe_buffer_bytes = random_map_size();
      auto again = Log::open(dir, o);
      ASSERT_TRUE(again.ok()) << where << ": " << again.status().to_string();
      log = *again;
      expect_consumer_view(*log, history, where + " after reopen");
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  ASSERT_TRUE(log->roll().ok());
  for (int pass = 0; pass < 10000 && log->dirty_ratio() > 0; ++pass) {
    auto st = log->compact_now();
    ASSERT_TRUE(st.ok()) << st.status().to_string();
  }
  ASSERT_EQ(log->dirty_ratio(), 0.0);
  const std::string where = "seed " + std::to_string(seed) + " final";
  expect_consumer_view(*log, history, where);
  std::vector<int64_t> left;
  int64_t off = log->log_start_offset().value();
  while (off < log->log_end_offset().value()) {
    auto r = log->read(Offset(off), 1 << 20, log->log_end_offset());
    ASSERT_TRUE(r.ok());
    if (r->empty()) break;
    for (const auto& rec : testing::decode_records(testing::read_region(*r))) left.push_back(rec.offset);
    off = r->last_offset + 1;
  }
  EXPECT_EQ(left, expected_after_full_compaction(history, now - o.config.delete_retention_ms)) << where;
  ASSERT_TRUE(log->close().ok());
  auto again = Log::open(dir, o);
  ASSERT_TRUE(again.ok());
  expect_consumer_view(**again, history, where + " after reopen");
}

TEST(CleanerModelTest, RandomWorkloadsMatchTheLatestValuePerKeyOracle) {
  for (uint64_t seed : testing::test_seeds(4)) {
    testing::TempDir dir;
    run_model(seed, dir.path() / "m-0");
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace millrace::storage
