#include "coordination/group_coordinator.h"

#include <gtest/gtest.h>

#include <set>

#include "coordination/offsets_format.h"
#include "coordination/offsets_partition.h"
#include "coordination/testing/answered_now.h"
#include "coordination/testing/memory_store.h"

namespace millrace::coordination {
namespace {
using testing::commit_now;
using testing::delete_group_now;
using testing::delete_offsets_now;

class GroupCoordinatorTest : public ::testing::Test {
 protected:
  GroupCoordinatorTest() : coord_(options(), &store_) {}
  static CoordinatorOptions options() {
    CoordinatorOptions o;
    o.initial_rebalance_delay_ms = 100;
    o.min_session_timeout_ms = 1000;
    o.max_session_timeout_ms = 60000;
    return o;
  }
  static JoinRequest join_req(std::string member_id = {}, std::string proto_meta = "m",
                              std::optional<std::string> instance = std::nullopt) {
    JoinRequest r;
    // std::string(...) instead of const char* assignment: GCC 12's -Wrestrict
    // false positive (PR105651) fires on the latter once this is inlined.
    r.group_id = std::string("g");
    r.member_id = std::move(member_id);
    r.group_instance_id = std::move(instance);
    r.client_id = std::string("c");
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 5000;
    r.protocol_type = std::string("consumer");
    r.protocols = {{"range", std::vector<uint8_t>(proto_meta.begin(), proto_meta.end())}};
    return r;
  }
  // Joins and returns a slot the callback fills.
  std::shared_ptr<std::optional<JoinResult>> join(const JoinRequest& r) {
    auto slot = std::make_shared<std::optional<JoinResult>>();
    coord_.join(r, now_, [slot](JoinResult res) { *slot = std::move(res); });
    return slot;
  }
  std::shared_ptr<std::optional<SyncResult>> sync(const std::string& member, int32_t gen,
                                                  std::vector<std::pair<std::string, std::vector<uint8_t>>> a = {}) {
    auto slot = std::make_shared<std::optional<SyncResult>>();
    SyncRequest r;
    r.group_id = "g";
    r.member_id = member;
    r.generation_id = gen;
    r.assignments = std::move(a);
    coord_.sync(r, now_, [slot](SyncResult res) { *slot = std::move(res); });
    return slot;
  }
  void advance(int64_t ms) {
    now_ += ms;
    coord_.tick(now_);
  }
  // A dynamic member of group "g" that is Stable at its generation (helper
  // of the appendix of REVIEW.md): the group may have other members.
  std::pair<std::string, int32_t> join_new_member() { return stable_single_member(); }
  void expect_invariants() { EXPECT_EQ(coord_.check_invariants(), ""); }
  // A member through join + sync; returns its member id and generation.
  std::pair<std::string, int32_t> stable_single_member() {
    auto j = join(join_req());
    advance(150);
    EXPECT_TRUE(j->has_value());
    auto s = sync((*j)->member_id, (*j)->generation_id, {{(*j)->member_id, {1, 2}}});
    EXPECT_TRUE(s->has_value());
    return {(*j)->member_id, (*j)->generation_id};
  }

  void replay_all(GroupCoordinator& into) const {
    for (const auto& r : store_.log) {
      std::optional<std::span<const uint8_t>> v;
      if (r.value) v = std::span<const uint8_t>(*r.value);
      into.replay(r.key, v);
    }
  }

  int64_t now_ = 1000000;
  MemoryStore store_;
  GroupCoordinator coord_;
};

TEST_F(GroupCoordinatorTest, FirstJoinWaitsForInitialDelayThenMakesLeader) {
  auto j = join(join_req());
  EXPECT_FALSE(j->has_value());
  advance(50);
  EXPECT_FALSE(j->has_value());
  advance(60);
  ASSERT_TRUE(j->has_value());
  EXPECT_EQ((*j)->error, err::kNone);
  EXPECT_EQ((*j)->generation_id, 1);
  EXPECT_EQ((*j)->leader, (*j)->member_id);
  EXPECT_EQ((*j)->protocol_name, "range");
  ASSERT_EQ((*j)->members.size(), 1u);
}

TEST_F(GroupCoordinatorTest, MemberIdRequiredThenJoinWithGivenId) {
  auto r = join_req();
  r.require_known_member_id = true;
  auto first = join(r);
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->error, err::kMemberIdRequired);
  ASSERT_FALSE((*first)->member_id.empty());
  auto second = join(join_req((*first)->member_id));
  advance(150);
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->error, err::kNone);
  EXPECT_EQ((*second)->member_id, (*first)->member_id);
}

TEST_F(GroupCoordinatorTest, UnknownMemberIdIsRefused) {
  auto j = join(join_req("nobody"));
  ASSERT_TRUE(j->has_value());
  EXPECT_EQ((*j)->error, err::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, SessionTimeoutOutsideBoundsIsRefused) {
  auto r = join_req();
  r.session_timeout_ms = 10;
  auto j = join(r);
  ASSERT_TRUE(j->has_value());
  EXPECT_EQ((*j)->error, err::kInvalidSessionTimeout);
}

TEST_F(GroupCoordinatorTest, LeaderSyncDistributesAssignments) {
  auto a = join(join_req({}, "a"));
  auto b = join(join_req({}, "b"));
  advance(150);
  ASSERT_TRUE(a->has_value() && b->has_value());
  ASSERT_EQ((*a)->generation_id, (*b)->generation_id);
  auto leader = (*a)->leader;
  auto& lead = (*a)->member_id == leader ? *a : *b;
  auto& follow = (*a)->member_id == leader ? *b : *a;
  EXPECT_EQ(lead->members.size(), 2u);
  EXPECT_TRUE(follow->members.empty());
  auto fs = sync(follow->member_id, follow->generation_id);
  EXPECT_FALSE(fs->has_value());  // waits for the leader
  auto ls = sync(lead->member_id, lead->generation_id,
                 {{lead->member_id, {1}}, {follow->member_id, {2}}});
  ASSERT_TRUE(fs->has_value() && ls->has_value());
  EXPECT_EQ((*fs)->assignment, std::vector<uint8_t>{2});
  EXPECT_EQ((*ls)->assignment, std::vector<uint8_t>{1});
  EXPECT_EQ(coord_.describe("g").state, "Stable");
}

TEST_F(GroupCoordinatorTest, HeartbeatErrors) {
  auto [id, gen] = stable_single_member();
  EXPECT_EQ(coord_.heartbeat("g", id, gen, std::nullopt, now_), err::kNone);
  EXPECT_EQ(coord_.heartbeat("g", "other", gen, std::nullopt, now_), err::kUnknownMemberId);
  EXPECT_EQ(coord_.heartbeat("g", id, gen + 1, std::nullopt, now_), err::kIllegalGeneration);
  EXPECT_EQ(coord_.heartbeat("nogroup", id, gen, std::nullopt, now_), err::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, NewMemberTriggersRebalanceSeenByHeartbeat) {
  auto [id, gen] = stable_single_member();
  auto b = join(join_req({}, "b"));
  EXPECT_FALSE(b->has_value());
  EXPECT_EQ(coord_.heartbeat("g", id, gen, std::nullopt, now_), err::kRebalanceInProgress);
  auto a = join(join_req(id));
  ASSERT_TRUE(a->has_value() && b->has_value());
  EXPECT_EQ((*a)->generation_id, gen + 1);
  EXPECT_EQ((*a)->leader, id);  // the old leader stays leader
}

TEST_F(GroupCoordinatorTest, ExpiredSessionRemovesMemberAndRebalances) {
  auto a = join(join_req({}, "a"));
  auto b = join(join_req({}, "b"));
  advance(150);
  std::string ida = (*a)->member_id, idb = (*b)->member_id;
  int32_t gen = (*a)->generation_id;
  auto sa = sync(ida, gen, {{ida, {1}}, {idb, {2}}});
  auto sb = sync(idb, gen);
  ASSERT_TRUE(sa->has_value() && sb->has_value());
  // Only a keeps heartbeating.
  for (int i = 0; i < 12; ++i) {
    advance(1000);
    coord_.heartbeat("g", ida, gen, std::nullopt, now_);
  }
  EXPECT_EQ(coord_.heartbeat("g", idb, gen, std::nullopt, now_), err::kUnknownMemberId);
  EXPECT_EQ(coord_.heartbeat("g", ida, gen, std::nullopt, now_), err::kRebalanceInProgress);
  auto again = join(join_req(ida, "a"));
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->generation_id, gen + 1);
  EXPECT_EQ((*again)->members.size(), 1u);
}

// tick() looks only at groups that can have something to do; a group it found
// idle and dropped must be looked at again once it has a member.
TEST_F(GroupCoordinatorTest, GroupIdleForAWhileStillExpiresItsNextMember) {
  auto [first, gen] = stable_single_member();
  coord_.leave("g", {{first, std::nullopt}}, now_);
  for (int i = 0; i < 5; ++i) advance(1000);  // Empty: dropped from the ticking groups
  expect_invariants();
  auto j = join(join_req());
  advance(150);
  ASSERT_TRUE(j->has_value());
  ASSERT_EQ((*j)->error, err::kNone);
  expect_invariants();
  auto s = sync((*j)->member_id, (*j)->generation_id, {{(*j)->member_id, {1}}});
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ(coord_.heartbeat("g", (*j)->member_id, (*j)->generation_id, std::nullopt, now_), err::kNone);
  for (int i = 0; i < 11; ++i) advance(1000);  // no heartbeat for the 10 s session
  EXPECT_EQ(coord_.heartbeat("g", (*j)->member_id, (*j)->generation_id, std::nullopt, now_), err::kUnknownMemberId);
  expect_invariants();
}

TEST_F(GroupCoordinatorTest, MemberThatDoesNotRejoinIsDroppedAtRebalanceTimeout) {
  auto [id, gen] = stable_single_member();
  auto b = join(join_req({}, "b"));
  advance(5001);  // rebalance timeout of the members
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->generation_id, gen + 1);
  EXPECT_EQ((*b)->members.size(), 1u);  // b alone, and b leads
  EXPECT_EQ(coord_.heartbeat("g", id, gen, std::nullopt, now_), err::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, LastMemberLeavingEmptiesGroup) {
  auto [id, gen] = stable_single_member();
  auto errors = coord_.leave("g", {{id, std::nullopt}}, now_);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[1], err::kNone);
  auto d = coord_.describe("g");
  EXPECT_EQ(d.state, "Empty");
  EXPECT_TRUE(d.members.empty());
  EXPECT_EQ(coord_.leave("g", {{id, std::nullopt}}, now_)[1], err::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, SyncWithOldGenerationIsIllegal) {
  auto [id, gen] = stable_single_member();
  auto s = sync(id, gen - 1);
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->error, err::kIllegalGeneration);
}

TEST_F(GroupCoordinatorTest, StaticMemberRejoinFencesOldId) {
  auto j = join(join_req({}, "m", "instance-1"));
  advance(150);
  ASSERT_TRUE(j->has_value());
  std::string old_id = (*j)->member_id;
  int32_t gen = (*j)->generation_id;
  sync(old_id, gen, {{old_id, {9}}});
  auto again = join(join_req({}, "m", "instance-1"));
  ASSERT_TRUE(again->has_value());  // Stable and unchanged: no rebalance
  EXPECT_NE((*again)->member_id, old_id);
  EXPECT_EQ((*again)->generation_id, gen);
  // The replaced id is fenced, as Kafka does: FENCED_INSTANCE_ID, not UNKNOWN_MEMBER_ID.
  EXPECT_EQ(coord_.heartbeat("g", old_id, gen, std::string("instance-1"), now_), err::kFencedInstanceId);
  EXPECT_EQ(coord_.heartbeat("g", (*again)->member_id, gen, std::string("instance-1"), now_), err::kNone);
  auto s = sync((*again)->member_id, gen);
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->assignment, std::vector<uint8_t>{9});
}

TEST_F(GroupCoordinatorTest, InconsistentProtocolIsRefused) {
  auto a = join(join_req());
  auto r = join_req();
  r.protocols = {{"roundrobin", {}}};
  auto b = join(r);
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->error, err::kInconsistentGroupProtocol);
}

TEST_F(GroupCoordinatorTest, CommitChecksGenerationAndMember) {
  auto [id, gen] = stable_single_member();
  std::vector<OffsetCommitEntry> offs = {{"t", 0, 10, -1, std::nullopt}};
  EXPECT_EQ(commit_now(coord_, "g", id, gen + 1, std::nullopt, offs, now_)[0], err::kIllegalGeneration);
  EXPECT_EQ(commit_now(coord_, "g", "x", gen, std::nullopt, offs, now_)[0], err::kUnknownMemberId);
  EXPECT_EQ(commit_now(coord_, "g", "", -1, std::nullopt, offs, now_)[0], err::kUnknownMemberId);  // group has members
  EXPECT_EQ(commit_now(coord_, "g", id, gen, std::nullopt, offs, now_)[0], err::kNone);
  auto f = coord_.fetch_offset("g", "t", 0);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->offset, 10);
  EXPECT_FALSE(coord_.fetch_offset("g", "t", 1));
}

TEST_F(GroupCoordinatorTest, StoreFailureLeavesOffsetsUnchanged) {
  std::vector<OffsetCommitEntry> offs = {{"t", 0, 10, -1, std::nullopt}};
  store_.fail = true;
  EXPECT_EQ(commit_now(coord_, "solo", "", -1, std::nullopt, offs, now_)[0], err::kCoordinatorNotAvailable);
  EXPECT_FALSE(coord_.fetch_offset("solo", "t", 0));
}

TEST_F(GroupCoordinatorTest, OffsetsAndGenerationSurviveReplay) {
  auto [id, gen] = stable_single_member();
  commit_now(coord_, "g", id, gen, std::nullopt, {{"t", 0, 10, -1, std::nullopt}, {"t", 1, 20, -1, std::string("x")}}, now_);
  commit_now(coord_, "g", id, gen, std::nullopt, {{"t", 0, 11, -1, std::nullopt}}, now_);
  commit_now(coord_, "simple", "", -1, std::nullopt, {{"u", 3, 7, -1, std::nullopt}}, now_);
  std::vector<int16_t> per;
  delete_offsets_now(coord_, "simple", {{"u", 3}}, per);

  GroupCoordinator reloaded(options(), nullptr);
  replay_all(reloaded);
  EXPECT_EQ(reloaded.fetch_offset("g", "t", 0)->offset, 11);
  EXPECT_EQ(reloaded.fetch_offset("g", "t", 1)->metadata, "x");
  EXPECT_FALSE(reloaded.fetch_offset("simple", "u", 3));
  // The reloaded group is Stable with the same generation and member, which
  // can go on heartbeating and committing without rejoining.
  EXPECT_EQ(reloaded.describe("g").state, "Stable");
  EXPECT_EQ(reloaded.heartbeat("g", id, gen, std::nullopt, now_), err::kNone);
  EXPECT_EQ(commit_now(reloaded, "g", id, gen, std::nullopt, {{"t", 0, 12, -1, std::nullopt}}, now_)[0], err::kNone);
  EXPECT_EQ(commit_now(reloaded, "g", id, gen + 1, std::nullopt, {{"t", 0, 13, -1, std::nullopt}}, now_)[0],
            err::kIllegalGeneration);
}

TEST_F(GroupCoordinatorTest, ReplayRestoresGenerationMembersAndAssignments) {
  auto a = join(join_req({}, "ma", std::string("inst-a")));
  auto b = join(join_req({}, "mb"));
  advance(150);
  ASSERT_TRUE(a->has_value() && b->has_value());
  ASSERT_EQ((*a)->error, err::kNone);
  int32_t gen = (*a)->generation_id;
  std::string leader = (*a)->leader;
  std::string ida = (*a)->member_id, idb = (*b)->member_id;
  std::string follower = leader == ida ? idb : ida;
  auto sf = sync(follower, gen);
  auto sl = sync(leader, gen, {{ida, {1}}, {idb, {2, 3}}});
  ASSERT_TRUE(sl->has_value() && sf->has_value());

  GroupCoordinator reloaded(options(), nullptr);
  replay_all(reloaded);
  auto d = reloaded.describe("g");
  EXPECT_EQ(d.state, "Stable");
  EXPECT_EQ(d.protocol_type, "consumer");
  EXPECT_EQ(d.protocol, "range");
  ASSERT_EQ(d.members.size(), 2u);
  for (const auto& m : d.members) {
    if (m.member_id == ida) {
      EXPECT_EQ(m.group_instance_id, std::optional<std::string>("inst-a"));
      EXPECT_EQ(m.metadata, (std::vector<uint8_t>{'m', 'a'}));
      EXPECT_EQ(m.assignment, (std::vector<uint8_t>{1}));
    } else {
      EXPECT_EQ(m.member_id, idb);
      EXPECT_FALSE(m.group_instance_id);
      EXPECT_EQ(m.assignment, (std::vector<uint8_t>{2, 3}));
    }
    EXPECT_EQ(m.client_id, "c");
  }
  // A sync retried after the restart gets the stored assignment back.
  auto slot = std::make_shared<std::optional<SyncResult>>();
  reloaded.sync({"g", idb, gen, std::nullopt, {}}, now_, [slot](SyncResult r) { *slot = r; });
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ((*slot)->error, err::kNone);
  EXPECT_EQ((*slot)->assignment, (std::vector<uint8_t>{2, 3}));
  // The static member's instance id still fences an impostor id.
  EXPECT_EQ(reloaded.heartbeat("g", idb, gen, std::string("inst-a"), now_), err::kFencedInstanceId);
}

TEST_F(GroupCoordinatorTest, RestoredSessionTimersStartAtFinishReplay) {
  auto [id, gen] = stable_single_member();
  GroupCoordinator reloaded(options(), nullptr);
  replay_all(reloaded);
  int64_t load = now_ + 3600 * 1000;  // the broker was down for an hour
  reloaded.finish_replay(load);
  reloaded.tick(load + 9000);  // inside the 10 s session timeout counted from load
  EXPECT_EQ(reloaded.heartbeat("g", id, gen, std::nullopt, load + 9000), err::kNone);
  reloaded.tick(load + 9000 + 10001);  // no heartbeat for a whole session: expired
  EXPECT_EQ(reloaded.heartbeat("g", id, gen, std::nullopt, load + 19002), err::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, GenerationIsStoredOnlyWhenSyncCompletesIt) {
  auto j = join(join_req());
  advance(150);
  ASSERT_TRUE(j->has_value());
  size_t group_values = 0;
  for (const auto& r : store_.log)
    if (std::holds_alternative<GroupKey>(decode_key(r.key))) ++group_values;
  EXPECT_EQ(group_values, 0u);  // CompletingRebalance: nothing stored yet
  sync((*j)->member_id, (*j)->generation_id, {{(*j)->member_id, {9}}});
  ASSERT_FALSE(store_.log.empty());
  auto v = decode_group_value(*store_.log.back().value);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->generation, (*j)->generation_id);
  ASSERT_EQ(v->members.size(), 1u);
  EXPECT_EQ(v->members[0].assignment, (std::vector<uint8_t>{9}));
}

TEST_F(GroupCoordinatorTest, SyncWhoseGenerationCannotBeStoredFailsAndRebalances) {
  auto j = join(join_req());
  advance(150);
  ASSERT_TRUE(j->has_value());
  store_.fail = true;
  auto s = sync((*j)->member_id, (*j)->generation_id, {{(*j)->member_id, {9}}});
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->error, err::kCoordinatorNotAvailable);
  EXPECT_EQ(coord_.describe("g").state, "PreparingRebalance");
  EXPECT_EQ(coord_.heartbeat("g", (*j)->member_id, (*j)->generation_id, std::nullopt, now_),
            err::kRebalanceInProgress);
}

TEST_F(GroupCoordinatorTest, EmptyGroupAndTombstoneReplay) {
  auto [id, gen] = stable_single_member();
  commit_now(coord_, "g", id, gen, std::nullopt, {{"t", 0, 5, -1, std::nullopt}}, now_);
  coord_.leave("g", {{id, std::nullopt}}, now_);
  {
    GroupCoordinator reloaded(options(), nullptr);
    replay_all(reloaded);
    EXPECT_EQ(reloaded.describe("g").state, "Empty");
    EXPECT_EQ(reloaded.heartbeat("g", id, gen, std::nullopt, now_), err::kUnknownMemberId);
    EXPECT_EQ(reloaded.fetch_offset("g", "t", 0)->offset, 5);
  }
  ASSERT_EQ(delete_group_now(coord_, "g"), err::kNone);
  ASSERT_FALSE(store_.log.back().value);  // the group tombstone
  GroupCoordinator reloaded(options(), nullptr);
  replay_all(reloaded);
  EXPECT_EQ(reloaded.describe("g").state, "Dead");
  EXPECT_FALSE(reloaded.fetch_offset("g", "t", 0));
  EXPECT_TRUE(reloaded.list({}).empty());
}

TEST_F(GroupCoordinatorTest, DeleteGroupOnlyWhenEmpty) {
  auto [id, gen] = stable_single_member();
  EXPECT_EQ(delete_group_now(coord_, "g"), err::kNonEmptyGroup);
  EXPECT_EQ(delete_group_now(coord_, "missing"), err::kGroupIdNotFound);
  coord_.leave("g", {{id, std::nullopt}}, now_);
  EXPECT_EQ(delete_group_now(coord_, "g"), err::kNone);
  EXPECT_EQ(coord_.describe("g").state, "Dead");
  EXPECT_TRUE(coord_.list({}).empty());
}

TEST_F(GroupCoordinatorTest, ListFiltersByState) {
  stable_single_member();
  commit_now(coord_, "other", "", -1, std::nullopt, {{"t", 0, 1, -1, std::nullopt}}, now_);
  EXPECT_EQ(coord_.list({}).size(), 2u);
  auto stable = coord_.list({"Stable"});
  ASSERT_EQ(stable.size(), 1u);
  EXPECT_EQ(stable[0].group_id, "g");
}

TEST_F(GroupCoordinatorTest, ManyMembersEachGenerationHasOneLeaderAndAllMembers) {
  std::vector<std::string> ids;
  for (int round = 0; round < 5; ++round) {
    std::vector<std::shared_ptr<std::optional<JoinResult>>> slots;
    slots.push_back(join(join_req()));  // a newcomer starts the rebalance...
    for (const auto& id : ids) slots.push_back(join(join_req(id)));  // ...and everyone rejoins
    advance(round == 0 ? 150 : 0);
    ids.clear();
    std::set<std::string> leaders;
    int32_t gen = -1;
    for (auto& s : slots) {
      ASSERT_TRUE(s->has_value());
      ASSERT_EQ((*s)->error, err::kNone);
      leaders.insert((*s)->leader);
      if (gen >= 0) { EXPECT_EQ((*s)->generation_id, gen); }
      gen = (*s)->generation_id;
      ids.push_back((*s)->member_id);
    }
    EXPECT_EQ(leaders.size(), 1u);
    EXPECT_EQ(ids.size(), static_cast<size_t>(round + 1));
    for (const auto& id : ids) sync(id, gen);
  }
}

// C1 (REVIEW.md appendix): a request naming an unknown group.instance.id for
// a known member used to insert "" into static_members; a later JoinGroup
// with that instance id then extracted a missing member and crashed. Kafka
// (ClassicGroup.validateMember) answers UNKNOWN_MEMBER_ID for an instance id
// the group does not know (the appendix sketch expected FENCED_INSTANCE_ID,
// which Kafka returns only for an instance mapped to another member id).
TEST_F(GroupCoordinatorTest, UnknownInstanceIdOnKnownMemberDoesNotPoisonStaticMap) {
  auto [m, gen] = join_new_member();
  EXPECT_EQ(coord_.heartbeat("g", m, gen, std::string("x"), now_), err::kUnknownMemberId);
  expect_invariants();
  auto r = join_req({}, "m", "x");
  auto j = join(r);  // before the fix: extract("") -> empty node -> SIGSEGV
  expect_invariants();
  advance(5001);     // m does not rejoin: the rebalance completes without it
  ASSERT_TRUE(j->has_value());
  EXPECT_EQ((*j)->error, err::kNone);
  EXPECT_FALSE((*j)->member_id.empty());
  expect_invariants();
}

TEST_F(GroupCoordinatorTest, UnknownInstanceIdOnSyncIsUnknownMember) {
  auto [m, gen] = join_new_member();
  auto slot = std::make_shared<std::optional<SyncResult>>();
  coord_.sync({"g", m, gen, std::string("x"), {}}, now_, [slot](SyncResult r) { *slot = r; });
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ((*slot)->error, err::kUnknownMemberId);
  expect_invariants();
  auto j = join(join_req({}, "m", "x"));
  expect_invariants();
}

TEST_F(GroupCoordinatorTest, UnknownInstanceIdOnJoinOfKnownMemberIsUnknownMember) {
  auto [m, gen] = join_new_member();
  auto j = join(join_req(m, "m", "x"));
  ASSERT_TRUE(j->has_value());
  EXPECT_EQ((*j)->error, err::kUnknownMemberId);
  expect_invariants();
  auto again = join(join_req({}, "m", "x"));
  expect_invariants();
}

TEST_F(GroupCoordinatorTest, UnknownInstanceIdOnLeaveIsUnknownMemberAndKeepsTheMember) {
  auto [m, gen] = join_new_member();
  EXPECT_EQ(coord_.leave("g", {{m, std::string("x")}}, now_)[1], err::kUnknownMemberId);
  EXPECT_EQ(coord_.leave("g", {{"", std::string("x")}}, now_)[1], err::kUnknownMemberId);
  EXPECT_EQ(coord_.heartbeat("g", m, gen, std::nullopt, now_), err::kNone);
  expect_invariants();
}

TEST_F(GroupCoordinatorTest, DynamicMemberNamingAnotherMembersInstanceIsFenced) {
  auto s = join(join_req({}, "m", "inst"));
  advance(150);
  ASSERT_TRUE(s->has_value());
  std::string sid = (*s)->member_id;
  int32_t gen = (*s)->generation_id;
  sync(sid, gen, {{sid, {1}}});
  auto d = join(join_req({}, "m"));  // a dynamic member joins: rebalance
  auto s2 = join(join_req(sid, "m", "inst"));
  ASSERT_TRUE(d->has_value() && s2->has_value());
  std::string did = (*d)->member_id;
  EXPECT_EQ(coord_.heartbeat("g", did, (*d)->generation_id, std::string("inst"), now_), err::kFencedInstanceId);
  auto fenced = join(join_req(did, "m", "inst"));
  ASSERT_TRUE(fenced->has_value());
  EXPECT_EQ((*fenced)->error, err::kFencedInstanceId);
  expect_invariants();
}

TEST_F(GroupCoordinatorTest, JoinWithMemberIdOfMissingGroupCreatesNoGroup) {
  auto j = join(join_req("someone"));
  ASSERT_TRUE(j->has_value());
  EXPECT_EQ((*j)->error, err::kUnknownMemberId);
  EXPECT_TRUE(coord_.list({}).empty());
  EXPECT_EQ(coord_.describe("g").state, "Dead");
}

TEST_F(GroupCoordinatorTest, InvalidJoinCreatesNoGroup) {
  auto r = join_req();
  r.session_timeout_ms = 1;
  auto j = join(r);
  r = join_req();
  r.protocols.clear();
  auto k = join(r);
  ASSERT_TRUE(j->has_value() && k->has_value());
  EXPECT_EQ((*j)->error, err::kInvalidSessionTimeout);
  EXPECT_EQ((*k)->error, err::kInconsistentGroupProtocol);
  EXPECT_TRUE(coord_.list({}).empty());
}

TEST_F(GroupCoordinatorTest, PendingMemberCanLeave) {
  auto r = join_req();
  r.require_known_member_id = true;
  auto first = join(r);
  ASSERT_TRUE(first->has_value());
  ASSERT_EQ((*first)->error, err::kMemberIdRequired);
  EXPECT_EQ(coord_.leave("g", {{(*first)->member_id, std::nullopt}}, now_)[1], err::kNone);
  auto again = join(join_req((*first)->member_id));
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->error, err::kUnknownMemberId);  // no longer pending
  expect_invariants();
}

TEST_F(GroupCoordinatorTest, ReplayedGroupNamingAMemberTwiceKeepsStaticMapConsistent) {
  GroupValue v;
  v.protocol_type = "consumer";
  v.generation = 3;
  v.protocol = "range";
  v.leader = "a";
  v.members.push_back({"a", std::string("x"), "c", "h", 1000, 10000, {}, {}});
  v.members.push_back({"a", std::string("y"), "c", "h", 1000, 10000, {}, {}});
  v.members.push_back({"b", std::string("x"), "c", "h", 1000, 10000, {}, {}});
  GroupCoordinator reloaded(options(), nullptr);
  auto key = encode_group_key({"g"});
  auto value = encode_group_value(v);
  reloaded.replay(key, std::span<const uint8_t>(value));
  EXPECT_EQ(reloaded.check_invariants(), "");
  EXPECT_EQ(reloaded.describe("g").members.size(), 1u);
}

// Two consumers configured with the same group.instance.id (KIP-345): the
// second JoinGroup (no member id) takes the instance over under a new member
// id; every later request of the older one is FENCED_INSTANCE_ID, so it
// stops instead of taking the identity back.
TEST_F(GroupCoordinatorTest, SecondConsumerWithSameInstanceIdFencesTheOlder) {
  auto a = join(join_req({}, "m", "inst"));
  advance(150);
  ASSERT_TRUE(a->has_value());
  std::string old_id = (*a)->member_id;
  int32_t gen = (*a)->generation_id;
  sync(old_id, gen, {{old_id, {7}}});
  auto b = join(join_req({}, "m", "inst"));
  ASSERT_TRUE(b->has_value());
  ASSERT_EQ((*b)->error, err::kNone);
  std::string new_id = (*b)->member_id;
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ((*b)->generation_id, gen);
  EXPECT_EQ((*b)->leader, new_id);  // the old id led; the leadership moves with the instance
  const std::optional<std::string> inst("inst");
  std::vector<OffsetCommitEntry> offs = {{"t", 0, 10, -1, std::nullopt}};

  EXPECT_EQ(coord_.heartbeat("g", old_id, gen, inst, now_), err::kFencedInstanceId);
  auto s = std::make_shared<std::optional<SyncResult>>();
  coord_.sync({"g", old_id, gen, inst, {}}, now_, [s](SyncResult r) { *s = r; });
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->error, err::kFencedInstanceId);
  EXPECT_EQ(commit_now(coord_, "g", old_id, gen, inst, offs, now_)[0], err::kFencedInstanceId);
  EXPECT_EQ(coord_.leave("g", {{old_id, inst}}, now_)[1], err::kFencedInstanceId);
  auto rejoin = join(join_req(old_id, "m", "inst"));
  ASSERT_TRUE(rejoin->has_value());
  EXPECT_EQ((*rejoin)->error, err::kFencedInstanceId);

  // The newer one carries on with the old assignment, without a rebalance.
  EXPECT_EQ(coord_.heartbeat("g", new_id, gen, inst, now_), err::kNone);
  EXPECT_EQ(commit_now(coord_, "g", new_id, gen, inst, offs, now_)[0], err::kNone);
  auto s2 = std::make_shared<std::optional<SyncResult>>();
  coord_.sync({"g", new_id, gen, inst, {}}, now_, [s2](SyncResult r) { *s2 = r; });
  ASSERT_TRUE(s2->has_value());
  EXPECT_EQ((*s2)->assignment, std::vector<uint8_t>{7});
  auto d = coord_.describe("g");
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members[0].member_id, new_id);
  expect_invariants();
}

TEST_F(GroupCoordinatorTest, StaticReplacementFencesTheOlderMembersWaitingJoin) {
  auto a = join(join_req({}, "m", "inst"));
  auto other = join(join_req({}, "o"));
  EXPECT_FALSE(a->has_value());  // initial delay: both wait
  auto b = join(join_req({}, "m", "inst"));
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->error, err::kFencedInstanceId);
  advance(150);
  ASSERT_TRUE(b->has_value() && other->has_value());
  EXPECT_EQ((*b)->error, err::kNone);
  EXPECT_EQ(coord_.describe("g").members.size(), 2u);
  expect_invariants();
}

TEST_F(GroupCoordinatorTest, StaticReplacementThatCannotBeStoredIsUndone) {
  auto a = join(join_req({}, "m", "inst"));
  advance(150);
  ASSERT_TRUE(a->has_value());
  std::string old_id = (*a)->member_id;
  int32_t gen = (*a)->generation_id;
  sync(old_id, gen, {{old_id, {7}}});
  store_.fail = true;
  auto b = join(join_req({}, "m", "inst"));
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->error, err::kCoordinatorNotAvailable);
  EXPECT_EQ(coord_.heartbeat("g", old_id, gen, std::string("inst"), now_), err::kNone);
  expect_invariants();
}

TEST_F(GroupCoordinatorTest, CommitErrorsFollowKafka) {
  std::vector<OffsetCommitEntry> offs = {{"t", 0, 10, -1, std::nullopt}};
  // A generation of a group that does not exist: ILLEGAL_GENERATION, and no group is created.
  EXPECT_EQ(commit_now(coord_, "nogroup", "m", 3, std::nullopt, offs, now_)[0], err::kIllegalGeneration);
  EXPECT_TRUE(coord_.list({}).empty());
  auto [id, gen] = stable_single_member();
  EXPECT_EQ(commit_now(coord_, "g", id, gen, std::string("x"), offs, now_)[0], err::kUnknownMemberId);
  EXPECT_EQ(commit_now(coord_, "g", "", -1, std::nullopt, offs, now_)[0], err::kUnknownMemberId);
  coord_.leave("g", {{id, std::nullopt}}, now_);
  // An Empty group takes commits from outside the group protocol.
  EXPECT_EQ(commit_now(coord_, "g", "", -1, std::nullopt, offs, now_)[0], err::kNone);
  EXPECT_EQ(commit_now(coord_, "g", "admin", -1, std::nullopt, offs, now_)[0], err::kNone);
  expect_invariants();
}

// --- C12: groups are created only by valid requests; offsets and empty
// groups expire by offsets.retention.minutes (the coordinator's clock is the
// now_ms the test passes: no sleeps). The fixture's options: retention 1 h,
// checked every minute.
class GroupRetentionTest : public GroupCoordinatorTest {
 protected:
  static constexpr int64_t kRetention = 3600 * 1000;
  static constexpr int64_t kCheck = 60 * 1000;
  GroupRetentionTest() : retained_(retention_options(), &store_) {}
  static CoordinatorOptions retention_options() {
    CoordinatorOptions o = options();
    o.offsets_retention_ms = kRetention;
    o.offsets_retention_check_interval_ms = kCheck;
    o.offset_metadata_max_bytes = 8;
    return o;
  }
  // ConsumerProtocolSubscription v0: int16 version, [topics], user data.
  static std::string subscription(const std::vector<std::string>& topics) {
    std::vector<char> b = {0, 0, 0, 0, 0, static_cast<char>(topics.size())};
    for (const auto& t : topics) {
      b.push_back(0);
      b.push_back(static_cast<char>(t.size()));
      b.insert(b.end(), t.begin(), t.end());
    }
    b.insert(b.end(), 4, static_cast<char>(0xff));  // null user data
    return std::string(b.begin(), b.end());
  }
  void tick_to(int64_t t) {
    now_ = t;
    retained_.tick(now_);
  }
  std::pair<std::string, int32_t> stable_member(const std::string& meta) {
    auto slot = std::make_shared<std::optional<JoinResult>>();
    JoinRequest r = join_req();
    r.session_timeout_ms = 60000;  // heartbeats every kCheck / 2 keep it
    r.protocols[0].metadata.assign(meta.begin(), meta.end());
    retained_.join(r, now_, [slot](JoinResult res) { *slot = res; });
    tick_to(now_ + 150);
    EXPECT_TRUE(slot->has_value());
    std::string id = (*slot)->member_id;
    int32_t gen = (*slot)->generation_id;
    retained_.sync({"g", id, gen, std::nullopt, {{id, {1}}}}, now_, [](SyncResult) {});
    EXPECT_EQ(retained_.describe("g").state, "Stable");
    return {id, gen};
  }
  GroupCoordinator retained_;
};

TEST_F(GroupRetentionTest, SimpleGroupOffsetsExpireRetentionAfterTheirCommit) {
  int64_t t0 = now_;
  EXPECT_EQ(commit_now(retained_, "simple", "", -1, std::nullopt, {{"t", 0, 5, -1, std::nullopt}}, t0)[0],
            err::kNone);
  EXPECT_EQ(commit_now(retained_, "simple", "", -1, std::nullopt, {{"t", 1, 6, -1, std::nullopt}},
                                     t0 + kRetention / 2)[0], err::kNone);
  tick_to(t0 + kRetention - 1);
  EXPECT_TRUE(retained_.fetch_offset("simple", "t", 0));
  tick_to(t0 + kRetention + kCheck);
  EXPECT_FALSE(retained_.fetch_offset("simple", "t", 0));  // expired
  EXPECT_TRUE(retained_.fetch_offset("simple", "t", 1));   // committed later: kept
  ASSERT_EQ(retained_.list({}).size(), 1u);
  tick_to(t0 + kRetention / 2 + kRetention + kCheck);
  EXPECT_FALSE(retained_.fetch_offset("simple", "t", 1));
  EXPECT_TRUE(retained_.list({}).empty());  // the group went with its last offset
  // The expiry is stored: a replay brings nothing back.
  GroupCoordinator reloaded(options(), nullptr);
  replay_all(reloaded);
  EXPECT_FALSE(reloaded.fetch_offset("simple", "t", 0));
  EXPECT_FALSE(reloaded.fetch_offset("simple", "t", 1));
  EXPECT_TRUE(reloaded.list({}).empty());
}

TEST_F(GroupRetentionTest, EmptyGroupOffsetsExpireRetentionAfterTheGroupEmptied) {
  auto [id, gen] = stable_member("m");
  EXPECT_EQ(commit_now(retained_, "g", id, gen, std::nullopt, {{"t", 0, 5, -1, std::nullopt}}, now_)[0],
            err::kNone);
  // The member stays (heartbeating) for two retention periods, then leaves.
  for (int i = 0; i < 240; ++i) {
    tick_to(now_ + kCheck / 2);
    ASSERT_EQ(retained_.heartbeat("g", id, gen, std::nullopt, now_), err::kNone);
  }
  EXPECT_TRUE(retained_.fetch_offset("g", "t", 0));  // metadata "m" is no subscription: kept
  retained_.leave("g", {{id, std::nullopt}}, now_);
  int64_t emptied = now_;
  tick_to(emptied + kRetention - kCheck);
  EXPECT_TRUE(retained_.fetch_offset("g", "t", 0));  // older than retention, but the group emptied recently
  EXPECT_EQ(retained_.describe("g").state, "Empty");
  tick_to(emptied + kRetention + kCheck);
  EXPECT_FALSE(retained_.fetch_offset("g", "t", 0));
  EXPECT_EQ(retained_.describe("g").state, "Dead");  // removed, with a group tombstone
  EXPECT_FALSE(store_.log.back().value);
  GroupCoordinator reloaded(options(), nullptr);
  replay_all(reloaded);
  EXPECT_TRUE(reloaded.list({}).empty());
}

TEST_F(GroupRetentionTest, StableGroupExpiresOnlyTopicsItDoesNotSubscribeTo) {
  auto [id, gen] = stable_member(subscription({"t"}));
  commit_now(retained_, "g", id, gen, std::nullopt,
                           {{"t", 0, 5, -1, std::nullopt}, {"old", 0, 9, -1, std::nullopt}}, now_);
  for (int i = 0; i < 130; ++i) {
    tick_to(now_ + kCheck / 2);
    ASSERT_EQ(retained_.heartbeat("g", id, gen, std::nullopt, now_), err::kNone);
  }
  EXPECT_TRUE(retained_.fetch_offset("g", "t", 0));
  EXPECT_FALSE(retained_.fetch_offset("g", "old", 0));
  EXPECT_EQ(retained_.describe("g").state, "Stable");
}

TEST_F(GroupRetentionTest, EmptyGroupWithoutOffsetsIsRemovedAtTheNextCheck) {
  auto [id, gen] = stable_member("m");
  retained_.leave("g", {{id, std::nullopt}}, now_);
  EXPECT_EQ(retained_.describe("g").state, "Empty");
  tick_to(now_ + kCheck);
  EXPECT_EQ(retained_.describe("g").state, "Dead");
  EXPECT_EQ(retained_.check_invariants(), "");
}

TEST_F(GroupRetentionTest, PendingMemberKeepsItsGroupUntilItExpires) {
  auto r = join_req();
  r.require_known_member_id = true;
  std::string pending;
  retained_.join(r, now_, [&](JoinResult res) { pending = res.member_id; });
  ASSERT_FALSE(pending.empty());
  tick_to(now_ + 1);
  EXPECT_EQ(retained_.describe("g").state, "Empty");  // kept: the pending member may come back
  tick_to(now_ + r.session_timeout_ms + kCheck);
  EXPECT_EQ(retained_.describe("g").state, "Dead");
}

TEST_F(GroupRetentionTest, StoreFailureKeepsOffsetsForTheNextCheck) {
  commit_now(retained_, "simple", "", -1, std::nullopt, {{"t", 0, 5, -1, std::nullopt}}, now_);
  store_.fail = true;
  tick_to(now_ + kRetention + kCheck);
  EXPECT_TRUE(retained_.fetch_offset("simple", "t", 0));
  store_.fail = false;
  tick_to(now_ + kCheck);
  EXPECT_FALSE(retained_.fetch_offset("simple", "t", 0));
}

TEST_F(GroupRetentionTest, MetadataOverTheLimitIsRefusedPerPartition) {
  auto errors = commit_now(retained_, 
      "simple", "", -1, std::nullopt,
      {{"t", 0, 5, -1, std::string("12345678")}, {"t", 1, 6, -1, std::string("123456789")}}, now_);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], err::kNone);
  EXPECT_EQ(errors[1], err::kOffsetMetadataTooLarge);
  EXPECT_TRUE(retained_.fetch_offset("simple", "t", 0));
  EXPECT_FALSE(retained_.fetch_offset("simple", "t", 1));
  // Nothing stored at all: no group is created.
  EXPECT_EQ(commit_now(retained_, "other", "", -1, std::nullopt, {{"t", 0, 5, -1, std::string(9, 'x')}},
                                     now_)[0], err::kOffsetMetadataTooLarge);
  EXPECT_EQ(retained_.describe("other").state, "Dead");
}

}  // namespace
}  // namespace millrace::coordination

namespace millrace::coordination {
namespace {

// Every store append holds records of one group and goes to the
// __consumer_offsets partition that group hashes to (Kafka's formula), so
// FindCoordinator and the records agree: group values, commits (member and
// simple), offset deletes and group deletes alike.
TEST_F(GroupCoordinatorTest, EveryAppendGoesToItsGroupsPartition) {
  MemoryStore store;
  CoordinatorOptions o = options();
  o.offsets_partitions = 50;
  GroupCoordinator c(o, &store);
  JoinRequest r = join_req();
  std::optional<JoinResult> joined;
  c.join(r, now_, [&](JoinResult res) { joined = std::move(res); });
  c.tick(now_ += 200);
  ASSERT_TRUE(joined && joined->error == err::kNone);
  SyncRequest s;
  s.group_id = "g";
  s.member_id = joined->member_id;
  s.generation_id = joined->generation_id;
  c.sync(s, now_, [](SyncResult) {});
  commit_now(c, "g", joined->member_id, joined->generation_id, std::nullopt, {{"t", 0, 10, -1, std::nullopt}}, now_);
  commit_now(c, "simple", "", -1, std::nullopt, {{"u", 3, 7, -1, std::nullopt}}, now_);
  commit_now(c, "other", "", -1, std::nullopt, {{"u", 1, 2, -1, std::nullopt}}, now_);
  EXPECT_EQ(delete_group_now(c, "other"), err::kNone);
  ASSERT_GE(store.appends.size(), 4u);
  auto group_of = [](const StoredRecord& rec) {
    auto k = decode_key(rec.key);
    return std::holds_alternative<OffsetKey>(k) ? std::get<OffsetKey>(k).group : std::get<GroupKey>(k).group;
  };
  std::set<int32_t> used;
  size_t at = 0;
  for (const auto& [partition, count] : store.appends) {
    used.insert(partition);
    for (size_t k = 0; k < count; ++k, ++at)
      EXPECT_EQ(offsets_partition_for(group_of(store.log.at(at)), 50), partition) << "record " << at;
  }
  EXPECT_EQ(at, store.log.size());
  EXPECT_GE(used.size(), 2u);  // the three groups do not all hash to one partition
}

}  // namespace
}  // namespace millrace::coordination
