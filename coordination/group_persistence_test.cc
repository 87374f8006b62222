// The coordinator's Ready-style persistence (a write is staged under the
// lock, handed to the store after it, and applied and answered once stored,
// in log order) and its partitions of __consumer_offsets (loaded, loading,
// not hosted; load and unload).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include "coordination/group_coordinator.h"
#include "coordination/offsets_format.h"
#include "coordination/offsets_partition.h"
#include "coordination/testing/answered_now.h"
#include "coordination/testing/memory_store.h"

namespace millrace::coordination {
namespace {

using testing::commit_now;
using testing::delete_group_now;

constexpr int32_t kPartitions = 8;

class PersistenceTest : public ::testing::Test {
 protected:
  PersistenceTest() : coord_(options(), &store_) {}
  static CoordinatorOptions options() {
    CoordinatorOptions o;
    o.initial_rebalance_delay_ms = 100;
    o.min_session_timeout_ms = 1000;
    o.max_session_timeout_ms = 60000;
    o.offsets_partitions = kPartitions;
    return o;
  }
  static JoinRequest join_req(const std::string& group, std::string member_id = {}) {
    JoinRequest r;
    r.group_id = group;
    r.member_id = std::move(member_id);
    r.client_id = std::string("c");
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 5000;
    r.protocol_type = std::string("consumer");
    r.protocols = {{"range", std::vector<uint8_t>{'m'}}};
    return r;
  }
  std::shared_ptr<std::optional<JoinResult>> join(const JoinRequest& r) {
    auto slot = std::make_shared<std::optional<JoinResult>>();
    coord_.join(r, now_, [slot](JoinResult res) { *slot = std::move(res); });
    return slot;
  }
  std::shared_ptr<std::optional<SyncResult>> sync(const std::string& group, const std::string& member, int32_t gen,
                                                  std::vector<std::pair<std::string, std::vector<uint8_t>>> a = {}) {
    auto slot = std::make_shared<std::optional<SyncResult>>();
    SyncRequest r;
    r.group_id = group;
    r.member_id = member;
    r.generation_id = gen;
    r.assignments = std::move(a);
    coord_.sync(r, now_, [slot](SyncResult res) { *slot = std::move(res); });
    return slot;
  }
  std::shared_ptr<std::optional<std::vector<int16_t>>> commit(const std::string& group, int64_t offset) {
    auto slot = std::make_shared<std::optional<std::vector<int16_t>>>();
    coord_.commit_offsets(group, "", -1, std::nullopt, {{"t", 0, offset, -1, std::nullopt}}, now_,
                          [slot](std::vector<int16_t> r) { *slot = std::move(r); });
    return slot;
  }
  // One member, joined: the group is CompletingRebalance, waiting for its SyncGroup.
  std::shared_ptr<std::optional<JoinResult>> completing(const std::string& group) {
    auto j = join(join_req(group));
    now_ += 200;
    coord_.tick(now_);
    EXPECT_TRUE(*j && (*j)->error == err::kNone);
    return j;
  }
  // One member, joined and synced: the group is Stable (store not held).
  std::pair<std::string, int32_t> stable(const std::string& group) {
    auto j = completing(group);
    auto s = sync(group, (*j)->member_id, (*j)->generation_id);
    EXPECT_TRUE(*s && (*s)->error == err::kNone);
    return {(*j)->member_id, (*j)->generation_id};
  }
  // Loads `partition` again from what the store holds, as a new leader would.
  void reload(int32_t partition) {
    coord_.begin_load(partition);
    for (const auto& r : store_.log) {
      auto k = decode_key(r.key);
      const std::string& g = std::holds_alternative<OffsetKey>(k) ? std::get<OffsetKey>(k).group
                                                                  : std::get<GroupKey>(k).group;
      if (offsets_partition_for(g, kPartitions) != partition) continue;
      std::optional<std::span<const uint8_t>> v;
      if (r.value) v = *r.value;
      coord_.replay(r.key, v);
    }
    coord_.finish_load(partition, now_);
  }

  MemoryStore store_;
  GroupCoordinator coord_;
  int64_t now_ = 1000;
};

// Two group ids on different partitions of kPartitions.
std::pair<std::string, std::string> groups_on_two_partitions() {
  std::string a = "ga";
  for (char c = 'b'; c <= 'z'; ++c) {
    std::string b = std::string("g") + c;
    if (offsets_partition_for(a, kPartitions) != offsets_partition_for(b, kPartitions)) return {a, b};
  }
  return {a, a};
}

TEST_F(PersistenceTest, ACommitIsAnsweredAndVisibleOnlyOnceStored) {
  store_.hold = true;
  auto answered = commit("g", 10);
  EXPECT_FALSE(*answered) << "answered before the store said stored";
  EXPECT_FALSE(coord_.fetch_offset("g", "t", 0)) << "visible before stored";
  ASSERT_EQ(store_.log.size(), 1u);
  ASSERT_TRUE(store_.release());
  ASSERT_TRUE(*answered);
  EXPECT_EQ((**answered)[0], err::kNone);
  ASSERT_TRUE(coord_.fetch_offset("g", "t", 0));
  EXPECT_EQ(coord_.fetch_offset("g", "t", 0)->offset, 10);
}

TEST_F(PersistenceTest, ARefusedCommitIsAnsweredWithARetriableErrorAndChangesNothing) {
  EXPECT_EQ(commit_now(coord_, "g", "", -1, std::nullopt, {{"t", 0, 5, -1, std::nullopt}}, now_)[0], err::kNone);
  store_.hold = true;
  store_.fail = true;
  auto answered = commit("g", 9);
  store_.release_all();
  ASSERT_TRUE(*answered);
  EXPECT_EQ((**answered)[0], err::kCoordinatorNotAvailable);
  EXPECT_EQ(coord_.fetch_offset("g", "t", 0)->offset, 5);
}

TEST_F(PersistenceTest, WritesApplyInTheOrderTheyWereStaged) {
  store_.hold = true;
  auto first = commit("g", 1);
  auto second = commit("g", 2);
  ASSERT_EQ(store_.log.size(), 2u);  // handed to the store in staged order...
  EXPECT_EQ(decode_offset_value(*store_.log[0].value)->offset, 1);
  EXPECT_EQ(decode_offset_value(*store_.log[1].value)->offset, 2);
  store_.release();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  EXPECT_EQ(coord_.fetch_offset("g", "t", 0)->offset, 1);
  store_.release();  // ...and applied in it: the last write wins, as on replay
  EXPECT_EQ(coord_.fetch_offset("g", "t", 0)->offset, 2);
}

TEST_F(PersistenceTest, AGenerationRunsOnlyOnceStored) {
  auto j = completing("g");
  store_.hold = true;
  auto s = sync("g", (*j)->member_id, (*j)->generation_id, {{(*j)->member_id, {'a'}}});
  EXPECT_FALSE(*s) << "SyncGroup answered before the generation was stored";
  EXPECT_EQ(coord_.describe("g").state, "CompletingRebalance");
  // The leader's SyncGroup again while the first is stored: no second write.
  auto again = sync("g", (*j)->member_id, (*j)->generation_id, {{(*j)->member_id, {'a'}}});
  ASSERT_TRUE(*s);  // the first was superseded by the second, as Kafka
  EXPECT_EQ((*s)->error, err::kRebalanceInProgress);
  EXPECT_EQ(store_.held.size(), 1u);
  store_.release_all();
  ASSERT_TRUE(*again);
  EXPECT_EQ((*again)->error, err::kNone);
  EXPECT_EQ((*again)->assignment, std::vector<uint8_t>{'a'});
  EXPECT_EQ(coord_.describe("g").state, "Stable");
  EXPECT_EQ(coord_.check_invariants(), "");
}

TEST_F(PersistenceTest, AGenerationThatCouldNotBeStoredIsNotRun) {
  auto j = completing("g");
  store_.hold = true;
  store_.fail = true;
  auto s = sync("g", (*j)->member_id, (*j)->generation_id);
  store_.release_all();
  ASSERT_TRUE(*s);
  EXPECT_EQ((*s)->error, err::kCoordinatorNotAvailable);
  EXPECT_EQ(coord_.describe("g").state, "PreparingRebalance");
  EXPECT_EQ(coord_.check_invariants(), "");
}

TEST_F(PersistenceTest, ARebalanceWhileAGenerationIsStoredSupersedesIt) {
  auto j = completing("g");
  store_.hold = true;
  auto s = sync("g", (*j)->member_id, (*j)->generation_id);
  auto other = join(join_req("g"));  // a new member: the group rebalances
  ASSERT_TRUE(*s);
  EXPECT_EQ((*s)->error, err::kRebalanceInProgress);
  store_.release_all();  // the old generation's write lands: it changes nothing
  EXPECT_EQ(coord_.describe("g").state, "PreparingRebalance");
  EXPECT_EQ(coord_.check_invariants(), "");
}

// The store is called with the coordinator's lock released: a store that
// calls back into the coordinator (as a completion on the same thread does)
// must not deadlock.
TEST_F(PersistenceTest, TheStoreIsNeverCalledUnderTheLock) {
  struct Reentrant : GroupStore {
    GroupCoordinator* c = nullptr;
    int calls = 0;
    void append(int32_t, std::vector<StoredRecord>, std::function<void(bool)> done) override {
      ++calls;
      (void)c->partition_error("g");  // takes the coordinator's lock
      (void)c->list({});
      done(true);
    }
  };
  auto run = std::async(std::launch::async, [] {
    Reentrant store;
    GroupCoordinator c(options(), &store);
    store.c = &c;
    std::vector<int16_t> r;
    c.commit_offsets("g", "", -1, std::nullopt, {{"t", 0, 3, -1, std::nullopt}}, 0,
                     [&](std::vector<int16_t> e) { r = std::move(e); });
    return store.calls == 1 && r.size() == 1 && r[0] == err::kNone && c.fetch_offset("g", "t", 0)->offset == 3;
  });
  if (run.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "deadlock: the store was called with the coordinator's lock held";
    std::_Exit(1);  // the stuck thread cannot be joined
  }
  EXPECT_TRUE(run.get());
}

TEST_F(PersistenceTest, AnUnloadedPartitionAnswersNotCoordinatorAndLeavesOthersAlone) {
  auto [a, b] = groups_on_two_partitions();
  ASSERT_NE(a, b);
  auto [member, gen] = stable(a);
  stable(b);
  int32_t pa = coord_.partition_for(a);
  coord_.unload(pa);
  EXPECT_EQ(coord_.partition_error(a), err::kNotCoordinator);
  EXPECT_EQ(coord_.heartbeat(a, member, gen, std::nullopt, now_), err::kNotCoordinator);
  EXPECT_EQ(commit_now(coord_, a, member, gen, std::nullopt, {{"t", 0, 1, -1, std::nullopt}}, now_)[0],
            err::kNotCoordinator);
  auto j = join(join_req(a));
  ASSERT_TRUE(*j);
  EXPECT_EQ((*j)->error, err::kNotCoordinator);
  EXPECT_EQ(coord_.describe(a).error, err::kNotCoordinator);
  EXPECT_EQ(delete_group_now(coord_, a), err::kNotCoordinator);
  for (const auto& l : coord_.list({})) EXPECT_NE(l.group_id, a);
  EXPECT_EQ(coord_.describe(b).state, "Stable");  // another partition: untouched
  EXPECT_EQ(coord_.partition_error(b), err::kNone);
}

TEST_F(PersistenceTest, UnloadAnswersTheRequestsWaitingOnItsGroups) {
  auto [member, gen] = stable("g");
  auto rejoin = join(join_req("g", member));  // the leader rejoins: waits for the others
  now_ += 1;
  auto newcomer = join(join_req("g"));
  EXPECT_FALSE(*newcomer);
  coord_.unload(coord_.partition_for("g"));
  ASSERT_TRUE(*newcomer);
  EXPECT_EQ((*newcomer)->error, err::kNotCoordinator);
  EXPECT_EQ(coord_.check_invariants(), "");
}

TEST_F(PersistenceTest, ALoadingPartitionAnswersLoadInProgressThenServesWhatItsLogHolds) {
  auto [member, gen] = stable("g");
  EXPECT_EQ(commit_now(coord_, "g", member, gen, std::nullopt, {{"t", 0, 42, -1, std::nullopt}}, now_)[0], err::kNone);
  int32_t p = coord_.partition_for("g");
  coord_.begin_load(p);
  EXPECT_EQ(coord_.partition_error("g"), err::kCoordinatorLoadInProgress);
  EXPECT_EQ(coord_.heartbeat("g", member, gen, std::nullopt, now_), err::kCoordinatorLoadInProgress);
  EXPECT_EQ(commit_now(coord_, "g", member, gen, std::nullopt, {{"t", 0, 43, -1, std::nullopt}}, now_)[0],
            err::kCoordinatorLoadInProgress);
  coord_.unload(p);
  reload(p);
  EXPECT_EQ(coord_.partition_error("g"), err::kNone);
  EXPECT_EQ(coord_.fetch_offset("g", "t", 0)->offset, 42);
  EXPECT_EQ(coord_.describe("g").state, "Stable");
  EXPECT_EQ(coord_.heartbeat("g", member, gen, std::nullopt, now_), err::kNone);
}

TEST_F(PersistenceTest, AWriteThatLandsAfterItsPartitionMovedIsAnsweredNotCoordinator) {
  store_.hold = true;
  auto answered = commit("g", 7);
  int32_t p = coord_.partition_for("g");
  coord_.unload(p);
  store_.hold = false;
  reload(p);  // the record is in the log: the new load has it
  store_.release_all();
  ASSERT_TRUE(*answered);
  EXPECT_EQ((**answered)[0], err::kNotCoordinator);  // the client retries at the partition's new coordinator
  EXPECT_EQ(coord_.fetch_offset("g", "t", 0)->offset, 7);
}

// Found by group_sequence_fuzz: a write that lands after its partition moved
// must not count against the group of the same id loaded since.
TEST_F(PersistenceTest, AMovedWriteDoesNotSettleTheReloadedGroupsWrites) {
  EXPECT_EQ(commit_now(coord_, "g", "", -1, std::nullopt, {{"t", 0, 1, -1, std::nullopt}}, now_)[0], err::kNone);
  store_.hold = true;
  auto old_write = commit("g", 2);
  int32_t p = coord_.partition_for("g");
  coord_.unload(p);
  reload(p);
  auto new_write = commit("g", 3);  // on the reloaded group
  store_.release();                 // the old write lands: kMoved
  ASSERT_TRUE(*old_write);
  EXPECT_FALSE(*new_write);
  EXPECT_EQ(delete_group_now(coord_, "g"), err::kCoordinatorNotAvailable);  // its own commit is still in flight
  store_.release_all();
  EXPECT_EQ(coord_.check_invariants(), "");
}

TEST_F(PersistenceTest, DeletingAGroupWaitsForItsCommitsInFlight) {
  EXPECT_EQ(commit_now(coord_, "g", "", -1, std::nullopt, {{"t", 0, 1, -1, std::nullopt}}, now_)[0], err::kNone);
  store_.hold = true;
  auto in_flight = commit("g", 2);
  EXPECT_EQ(delete_group_now(coord_, "g"), err::kCoordinatorNotAvailable);  // retriable
  store_.release_all();
  store_.hold = false;
  EXPECT_EQ(delete_group_now(coord_, "g"), err::kNone);
  EXPECT_FALSE(coord_.fetch_offset("g", "t", 0));
  EXPECT_EQ(coord_.describe("g").state, "Dead");
}

}  // namespace
}  // namespace millrace::coordination
