// The classic-protocol group coordinator: consumer group membership
// (JoinGroup / SyncGroup / Heartbeat / LeaveGroup with generations,
// rebalance and session timeouts, MEMBER_ID_REQUIRED, static membership)
// and committed offsets, persisted through a GroupStore.
//
// State machine per group (Kafka's):
//
//   Empty --join--> PreparingRebalance --all joined / timeout--> CompletingRebalance
//     ^                    ^   |                                        |
//     |                    |   +--no members left--> Empty     leader SyncGroup
//     |                    +---- join/leave/expiry ----+                v
//     +------------------ last member leaves ---------------------- Stable
//
// Time is explicit: every call takes `now_ms`, and tick(now_ms) (the broker
// calls it every ~100 ms) completes rebalances whose wait is over and expires
// members whose session timed out. This keeps the machine testable without
// threads or timers.
//
// Thread-safety: every public call may run from any thread; one mutex guards
// all state. Join and sync callbacks run after the lock is released, on the
// calling thread (of join/sync/leave/tick); they must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "coordination/group_store.h"
#include "coordination/group_types.h"

namespace millrace::coordination {

struct CoordinatorOptions {
  int32_t initial_rebalance_delay_ms = 3000;
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 1800000;
  int32_t max_group_size = INT32_MAX;
  // offsets.retention.minutes (Kafka's default, 7 days): offsets of an Empty
  // group expire this long after it became Empty; those of a simple group
  // (offsets only) and, in a Stable consumer group, those of topics it does
  // not subscribe to, this long after their commit. An Empty group left
  // without offsets is then removed.
  int64_t offsets_retention_ms = 7LL * 24 * 3600 * 1000;
  // offsets.retention.check.interval.ms (Kafka's default): how often tick()
  // looks for expired offsets and groups.
  int64_t offsets_retention_check_interval_ms = 600000;
  // offset.metadata.max.bytes: a longer commit metadata string is refused
  // with OFFSET_METADATA_TOO_LARGE for that partition.
  int32_t offset_metadata_max_bytes = 4096;
};

class GroupCoordinator {
 public:
  // `store` may be null (nothing persisted). Not owned; must outlive this.
  GroupCoordinator(CoordinatorOptions options, GroupStore* store);
  ~GroupCoordinator();

  // Replays one record of __consumer_offsets (at start, before serving).
  void replay(std::span<const uint8_t> key, const std::optional<std::span<const uint8_t>>& value);
  // After the last replay(): restarts every restored member's session timer
  // at now_ms (they had no chance to heartbeat while the broker was down).
  void finish_replay(int64_t now_ms);

  void join(const JoinRequest& req, int64_t now_ms, JoinCallback done);
  void sync(const SyncRequest& req, int64_t now_ms, SyncCallback done);
  int16_t heartbeat(const std::string& group_id, const std::string& member_id, int32_t generation,
                    const std::optional<std::string>& instance_id, int64_t now_ms);
  // One error per member, in order; the first element is the group-level error.
  std::vector<int16_t> leave(const std::string& group_id, const std::vector<LeaveMember>& members, int64_t now_ms);

  // generation -1 and empty member id: a commit from outside the group
  // protocol (allowed only while the group has no members).
  // A member's commit names its member id, generation and (static members)
  // group.instance.id, validated as Kafka does.
  std::vector<int16_t> commit_offsets(const std::string& group_id, const std::string& member_id,
                                      int32_t generation, const std::optional<std::string>& instance_id,
                                      const std::vector<OffsetCommitEntry>& offsets, int64_t now_ms);
  // topic -> partition -> offset; partitions not committed are absent.
  std::optional<CommittedOffset> fetch_offset(const std::string& group_id, const std::string& topic,
                                              int32_t partition) const;
  std::map<std::string, std::map<int32_t, CommittedOffset>> fetch_all_offsets(const std::string& group_id) const;
  // Group-level error first (kGroupIdNotFound, kNonEmptyGroup...), then per partition.
  int16_t delete_offsets(const std::string& group_id, const std::vector<std::pair<std::string, int32_t>>& parts,
                         std::vector<int16_t>& per_partition);

  GroupDescription describe(const std::string& group_id) const;
  std::vector<GroupListing> list(const std::vector<std::string>& states_filter) const;
  int16_t delete_group(const std::string& group_id);

  // Completes rebalances whose wait is over, expires sessions and pending
  // member ids, and every offsets_retention_check_interval_ms expires old
  // offsets and empty groups (tombstones through the store).
  void tick(int64_t now_ms);

  // Checks the coordinator's own invariants (for tests and fuzzers): every
  // static_members entry names an existing member with that instance id and
  // back; pending ids are not members; a Stable or CompletingRebalance group
  // has a leader that is a member and a protocol every member supports; an
  // Empty group has no members; join callbacks wait only in
  // PreparingRebalance, sync callbacks only in CompletingRebalance. Returns
  // a description of the first violation, empty when all hold.
  std::string check_invariants() const;

  // For metrics: group -> member count, and every committed offset.
  std::map<std::string, int> member_counts() const;
  std::map<std::string, std::map<std::pair<std::string, int32_t>, int64_t>> all_offsets() const;

 private:
  struct Member;
  struct Group;
  struct Deferred;  // callbacks collected under the lock, run after it

  Group& group_for(const std::string& id);
  Group* find(const std::string& id) const;
  // JoinGroup split as Kafka's: a member without an id (new, or a static
  // member taking its instance's identity over), and a member with one.
  void join_new_member(const JoinRequest& req, int64_t now_ms, JoinCallback done, Deferred& out);
  void join_existing_member(const JoinRequest& req, int64_t now_ms, JoinCallback done, Deferred& out);
  void add_member(Group& g, const std::string& member_id, const JoinRequest& req, int64_t now_ms,
                  JoinCallback done, Deferred& out);
  void replace_static_member(Group& g, const std::string& old_id, const JoinRequest& req, int64_t now_ms,
                             JoinCallback done, Deferred& out);
  void prepare_rebalance(Group& g, int64_t now_ms, Deferred& out);
  void maybe_complete_join(Group& g, int64_t now_ms, Deferred& out, bool deadline_passed);
  void remove_member(Group& g, const std::string& member_id, int64_t now_ms, Deferred& out);
  // Writes the group's value (generation, members, assignments); false when
  // the store refused it. True without a store.
  bool persist_group(Group& g, int64_t now_ms);
  // The offsets-retention pass of tick() (group_offsets.cc).
  void expire_offsets_and_groups(int64_t now_ms);
  std::string new_member_id(const std::string& client_id, const std::optional<std::string>& instance_id);

  CoordinatorOptions options_;
  GroupStore* store_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Group>> groups_;  // GUARDED_BY(mu_)
  uint64_t member_seq_ = 0;                                // GUARDED_BY(mu_)
  int64_t next_retention_check_ms_ = 0;                    // GUARDED_BY(mu_)
};

}  // namespace millrace::coordination
