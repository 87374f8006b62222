// PartitionRaftLog against the core's in-memory model (raft/testing/memory_log.h):
// random appends of data and control entries, truncations above the commit
// index, retention moving the start, installs and restarts; after every step
// both logs must answer every raft::Log read the same way.
#include <gtest/gtest.h>

#include <random>

#include "raft/storage/entry_batch.h"
#include "raft/storage/partition_log.h"
#include "raft/testing/memory_log.h"
#include "storage/test_util.h"

namespace millrace::raft {
namespace {

using storage::testing::TempDir;

Payload bytes_of(std::vector<uint8_t> v) { return std::make_shared<const std::vector<uint8_t>>(std::move(v)); }

const Config kConfigs[] = {
    {{NodeId(1), NodeId(2), NodeId(3)}, {}, {}},
    {{NodeId(1), NodeId(2), NodeId(4)}, {NodeId(1), NodeId(2), NodeId(3)}, {}},
    {{NodeId(1), NodeId(2), NodeId(4)}, {}, {NodeId(5)}},
};

class ModelRun {
 public:
  explicit ModelRun(uint64_t seed) : rng_(seed) { open(); }
  ~ModelRun() { close(); }

  void step() {
    switch (pick(10)) {
      case 0: case 1: case 2: case 3: append(); break;
      case 4: commit(); break;
      case 5: truncate(); break;
      case 6: move_start(); break;
      case 7: if (pick(3) == 0) install(); break;
      case 8: ASSERT_TRUE(log_->sync()); break;
      default: reopen(); break;
    }
  }

  void check() const {
    ASSERT_EQ(log_->start(), model_.start());
    ASSERT_EQ(log_->last(), model_.last());
    for (Index i = model_.start() - 2; i <= model_.last() + 1; ++i)
      ASSERT_EQ(log_->term_at(i), model_.term_at(i)) << "term_at " << i.value();
    ASSERT_EQ(log_->snapshot(), model_.snapshot());
    ASSERT_EQ(log_->config_entries(), model_.config_entries());
    ASSERT_EQ(log_->entries(log_->start(), SIZE_MAX), model_.entries(model_.start(), SIZE_MAX));
    if (model_.last() >= model_.start()) {
      Index from = model_.start() + static_cast<int64_t>(pick(static_cast<uint64_t>(model_.last() - model_.start() + 1)));
      size_t max_bytes = pick(400);
      ASSERT_EQ(log_->entries(from, max_bytes), model_.entries(from, max_bytes)) << from.value() << " " << max_bytes;
    }
  }

 private:
  uint64_t pick(uint64_t n) const { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

  void open() {
    storage::LogOptions o;
    o.hw_policy = storage::HwPolicy::kManual;
    o.config.segment_bytes = 600;  // several segments: retention deletes whole files
    auto s = storage::Log::open(dir_.path() / "p-0", o);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    storage_ = *s;
    auto l = PartitionRaftLog::open(storage_);
    ASSERT_TRUE(l.ok()) << l.status().to_string();
    log_ = std::move(*l);
    log_->set_commit(commit_);
  }
  void close() {
    log_.reset();
    if (storage_) (void)storage_->close();
    storage_.reset();
  }
  void reopen() {
    ASSERT_TRUE(log_->sync());
    close();
    open();
    ++counts[3];
  }

  void append() {
    std::vector<Entry> es;
    Index next = model_.last() + 1;
    for (uint64_t k = 0, n = 1 + pick(3); k < n; ++k) {
      if (pick(4) == 0) ++term_;
      Entry e;
      e.first = next;
      e.term = Term(term_);
      switch (pick(5)) {
        case 0:
          e.type = EntryType::kLeaderChange;
          e.data = bytes_of(encode_leader_change(LeaderChange{}));
          break;
        case 1:
          e.type = EntryType::kVoters;
          e.data = bytes_of(kConfigs[pick(3)].encode());
          break;
        default: {
          const int records = 1 + static_cast<int>(pick(4));
          auto b = storage::testing::simple_batch(records, 1000, 1 + pick(60));
          record::set_base_offset(b, next.value());
          record::set_partition_leader_epoch(b, term_);
          e.type = EntryType::kData;
          e.data = bytes_of(std::move(b));
          e.last = next + (records - 1);
        }
      }
      if (e.type != EntryType::kData) e.last = next;
      next = e.last + 1;
      es.push_back(std::move(e));
    }
    ASSERT_TRUE(log_->append(es)) << log_->last_error().to_string();
    ASSERT_TRUE(model_.append(es));
  }

  // The commit index moves up to an entry's last offset.
  void commit() {
    auto es = model_.entries(model_.start(), SIZE_MAX);
    if (es.empty()) return;
    Index c = es[pick(es.size())].last;
    if (c <= commit_) return;
    commit_ = c;
    log_->set_commit(commit_);
  }

  // Only above the commit index (the core never asks for less).
  void truncate() {
    auto es = model_.entries(model_.start(), SIZE_MAX);
    std::vector<Index> firsts;
    for (const Entry& e : es)
      if (e.first > commit_) firsts.push_back(e.first);
    if (firsts.empty()) return;
    Index from = firsts[pick(firsts.size())];
    ASSERT_TRUE(log_->truncate_suffix(from)) << log_->last_error().to_string();
    ASSERT_TRUE(model_.truncate_suffix(from));
    ++counts[0];
  }

  // Retention / DeleteRecords: to an entry boundary <= commit + 1.
  void move_start() {
    auto es = model_.entries(model_.start(), SIZE_MAX);
    std::vector<Index> firsts;
    for (const Entry& e : es)
      if (e.first <= commit_ + 1 && e.first > model_.start()) firsts.push_back(e.first);
    if (commit_ + 1 > model_.start() && commit_ == model_.last()) firsts.push_back(commit_ + 1);
    if (firsts.empty()) return;
    Index to = firsts[pick(firsts.size())];
    auto r = storage_->delete_records_before(Offset(to.value()));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    ASSERT_TRUE(model_.move_start(to));
    ++counts[1];
  }

  // A follower too far behind: restart past everything held.
  void install() {
    term_ += static_cast<int32_t>(pick(2));
    SnapshotMeta meta{model_.last() + static_cast<int64_t>(1 + pick(20)), Term(term_), kConfigs[pick(3)]};
    ASSERT_TRUE(log_->install_snapshot(meta)) << log_->last_error().to_string();
    ASSERT_TRUE(model_.install_snapshot(meta));
    commit_ = meta.index;
    log_->set_commit(commit_);
    ++counts[2];
  }

  mutable std::mt19937_64 rng_;
 public:
  // Steps that changed something: truncations, start moves, installs, reopens.
  static inline int counts[4] = {0, 0, 0, 0};

 private:
  TempDir dir_;
  std::shared_ptr<storage::Log> storage_;
  std::unique_ptr<PartitionRaftLog> log_;
  testing::MemoryLog model_;
  int32_t term_ = 1;
  Index commit_{-1};
};

TEST(PartitionRaftLogModelTest, AnswersLikeTheInMemoryLog) {
  const uint64_t seeds = 25;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    ModelRun run(seed);
    for (int i = 0; i < 80; ++i) {
      SCOPED_TRACE("step " + std::to_string(i));
      run.step();
      if (::testing::Test::HasFatalFailure()) return;
      run.check();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  // The run did exercise every kind of change (not only appends).
  for (int kind = 0; kind < 4; ++kind) EXPECT_GE(ModelRun::counts[kind], 20) << kind;
}

}  // namespace
}  // namespace millrace::raft
