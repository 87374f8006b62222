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
// threads or timers. A tick looks only at the groups that can have something
// to do (members, pending members, or a rebalance under way), not at every
// group: an idle group (offsets only, the common case) costs it nothing.
//
// Persistence is Ready-style (etcd/raft): under the lock a call only stages
// the records it needs written, with what to do once they are stored; after
// releasing the lock it hands the staged writes, in order, to the GroupStore,
// and applies each write (a commit's offsets, a generation becoming Stable,
// a deletion) and answers its client when the store reports it stored, in
// the log's order. So no I/O runs under the coordinator's lock, and the
// coordinator's state is what replaying its log gives.
//
// Partitions of __consumer_offsets: a group lives on offsets_partition_for(
// id, offsets_partitions). Each partition is Loaded (served), Loading (being
// replayed: requests get COORDINATOR_LOAD_IN_PROGRESS) or NotHosted (requests
// get NOT_COORDINATOR). A new coordinator has every partition Loaded and
// empty; begin_load/replay/finish_load load one from its log and unload
// drops one (as leadership of __consumer_offsets partitions moves).
//
// Thread-safety: every public call may run from any thread; one mutex guards
// all state. Callbacks run after the lock is released, on the calling thread
// (of the call, tick or the store's completion); they must not block.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
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
  // The partition count of __consumer_offsets (what a group id hashes over).
  int32_t offsets_partitions = 1;
};

class GroupCoordinator {
 public:
  // `store` may be null (nothing persisted). Not owned; must outlive this.
  GroupCoordinator(CoordinatorOptions options, GroupStore* store);
  ~GroupCoordinator();

  // Loading one partition of __consumer_offsets: begin_load drops what the
  // partition held (its waiting requests are answered NOT_COORDINATOR, its
  // staged writes will be too) and marks it Loading; replay() feeds its
  // records in log order; finish_load marks it Loaded and starts restored
  // members' session timers at now_ms (they could not heartbeat meanwhile).
  void begin_load(int32_t partition);
  void finish_load(int32_t partition, int64_t now_ms);
  // Stops serving a partition: its groups are dropped (waiting requests
  // answered NOT_COORDINATOR) and it is NotHosted until loaded again.
  void unload(int32_t partition);
  int32_t partition_for(const std::string& group_id) const;
  // NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS or NONE for the group's partition.
  int16_t partition_error(const std::string& group_id) const;

  // Replays one record of __consumer_offsets: at start, or between
  // begin_load and finish_load of the record's group's partition.
  void replay(std::span<const uint8_t> key, const std::optional<std::span<const uint8_t>>& value);
  // After the last replay() at start: restarts every restored member's
  // session timer at now_ms.
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
  // Answered once the offsets are stored (and then visible to fetch_offset).
  void commit_offsets(const std::string& group_id, const std::string& member_id, int32_t generation,
                      const std::optional<std::string>& instance_id, const std::vector<OffsetCommitEntry>& offsets,
                      int64_t now_ms, CommitCallback done);
  // topic -> partition -> offset; partitions not committed are absent.
  std::optional<CommittedOffset> fetch_offset(const std::string& group_id, const std::string& topic,
                                              int32_t partition) const;
  std::map<std::string, std::map<int32_t, CommittedOffset>> fetch_all_offsets(const std::string& group_id) const;
  // Group-level error first (kGroupIdNotFound, kNonEmptyGroup...), then per
  // partition; answered once the tombstones are stored.
  void delete_offsets(const std::string& group_id, const std::vector<std::pair<std::string, int32_t>>& parts,
                      DeleteOffsetsCallback done);

  GroupDescription describe(const std::string& group_id) const;
  std::vector<GroupListing> list(const std::vector<std::string>& states_filter) const;
  // The group is Dead (refusing requests) until its tombstones are stored,
  // then gone; answered then.
  void delete_group(const std::string& group_id, DeleteGroupCallback done);

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
  // What became of a staged write: stored, refused by the store, or its
  // partition was unloaded or reloaded meanwhile (the answer: NOT_COORDINATOR).
  enum class Persisted { kStored, kFailed, kMoved };
  // Runs under the lock when the write completes, in the partition's log order.
  using Continuation = std::function<void(Persisted, Deferred&)>;
  struct StagedWrite {
    uint64_t id;
    int32_t partition;
    std::vector<StoredRecord> records;
  };
  struct Waiting {
    int32_t partition;
    uint64_t load_epoch;
    std::string group_id;
    Continuation then;
  };
  enum class Load { kNotHosted, kLoading, kLoaded };
  struct PartitionSlot {
    Load load = Load::kLoaded;
    uint64_t epoch = 0;  // bumped by every begin_load and unload
  };

  // Both also put the group on the ticking_ list: whoever reaches a group may
  // give tick() something to do there (a member, a pending member, a rebalance).
  Group& group_for(const std::string& id);
  Group* find(const std::string& id) const;
  static bool idle(const Group& g);  // nothing for tick() to do
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
  // Stages `records` of group `group_id`; `then` runs when they are stored
  // (at once, inline, without a store).
  void stage(const std::string& group_id, std::vector<StoredRecord> records, Continuation then, Deferred& out);
  // Stages the group's value (generation, members, assignments).
  void persist_group(Group& g, int64_t now_ms, Continuation then, Deferred& out);
  // Hands the staged writes to the store, in order; called with no lock held.
  void persist_ready();
  void on_persisted(uint64_t id, bool ok);
  // Drops the groups of `partition` (answering their waiting requests
  // NOT_COORDINATOR) and moves it to `to` (Loading or NotHosted).
  void drop_partition(int32_t partition, Load to);
  // partition_error() with the lock held.
  int16_t load_error(const std::string& group_id) const;
  void commit_locked(const std::string& group_id, const std::string& member_id, int32_t generation,
                     const std::optional<std::string>& instance_id, const std::vector<OffsetCommitEntry>& offsets,
                     int64_t now_ms, CommitCallback done, Deferred& out);
  // The offsets-retention pass of tick() (group_offsets.cc).
  void expire_offsets_and_groups(int64_t now_ms, Deferred& out);
  std::string new_member_id(const std::string& client_id, const std::optional<std::string>& instance_id);

  CoordinatorOptions options_;
  GroupStore* store_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Group>> groups_;  // GUARDED_BY(mu_)
  // Groups tick() looks at: every non-idle group is here (check_invariants);
  // a tick drops the ones it finds idle.
  mutable std::set<std::string> ticking_;  // GUARDED_BY(mu_)
  uint64_t member_seq_ = 0;                                // GUARDED_BY(mu_)
  int64_t next_retention_check_ms_ = 0;                    // GUARDED_BY(mu_)
  std::vector<PartitionSlot> partitions_;                  // GUARDED_BY(mu_)
  std::vector<StagedWrite> ready_;                         // GUARDED_BY(mu_)
  std::map<uint64_t, Waiting> waiting_;                    // GUARDED_BY(mu_)
  uint64_t next_write_id_ = 0;                             // GUARDED_BY(mu_)
  // persist_ready: one thread at a time hands writes to the store, so the
  // store sees them in staged order; a call while another runs leaves the
  // work to it (persist_wanted_), also when the store completes inline.
  std::mutex persist_mu_;
  std::atomic<bool> persist_wanted_{false};
  std::atomic<std::thread::id> persist_owner_{};
};

}  // namespace millrace::coordination
