// PartitionReplica: one replica of a replicated partition, a member of the
// partition's Raft group (raft/). The partition's storage::Log is the Raft log
// (raft/storage/partition_log.h: an entry is a record batch, its index the
// batch's last offset, its term the partitionLeaderEpoch); the commit index
// is the high watermark - 1, so consumers read only what a majority holds.
//
//   produce (leader)  propose(batch) -> Raft assigns offsets [first, last] and
//                     the term; drive() appends it here and sends it out
//   acks=1            wait(last, term, kAppended): once it is in the local log
//   acks=all          wait(last, term, kCommitted): once committed (a majority
//                     holds it, synced under Durability::kSynced) with this
//                     entry still at `last` in this term
//   DeleteRecords     propose_log_start(offset) -> a LogStart control entry;
//                     wait(last, term, kCommitted) as for acks=all
//   answered with NOT_LEADER_OR_FOLLOWER when the outcome is unknown: this
//                     replica stopped leading before its entry committed (the
//                     new leader may still commit it or cut it; the client
//                     retries and idempotence keeps it from landing twice), or
//                     the entry at `last` is another term's (it was cut)
//
// The owner drives it like any raft::Raft (raft.h): tick() on a clock, step()
// with the messages other replicas sent, propose(), then drive() after each,
// sending the messages drive() returns. Not thread-safe: one owner (the
// partition's strand) calls everything.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/replication/throttle.h"
#include "raft/raft.h"
#include "raft/storage/hard_state_file.h"
#include "raft/storage/partition_log.h"
#include "storage/log.h"
#include "storage/status.h"

namespace millrace::cluster {

struct PartitionReplicaOptions {
  int32_t me = -1;
  int64_t group = 0;              // the Raft group id (unique per partition across the cluster)
  std::vector<int32_t> replicas;  // the first configuration of a new replica (its voters)
  // A replica added to an existing group (a reassignment's `adding`): no first
  // configuration of its own; it learns the group's from the leader's appends
  // (the learner entry that names it) and never campaigns before.
  bool joining = false;
  // The replicas a reassignment is adding (not yet voters): a group opened
  // here for the first time (a new one, or a log of replication factor 1 that
  // never ran Raft) starts with `replicas` minus these as voters, so it keeps
  // leading while the new replicas catch up as learners.
  std::vector<int32_t> adding;
  // raft::Options::learner_budget / learner_sent: the owner's learner throttle.
  std::function<size_t(int32_t to)> learner_budget;
  std::function<void(int32_t to, size_t bytes)> learner_sent;
  // The owner's follower throttle: the bytes an append to this replica should
  // carry at most while its catch-up is throttled (raft::Options::intake_limit;
  // 0 or unset: no limit).
  std::function<size_t()> follower_window;
  int election_ticks = 10;
  int quiesce_ticks = 0;          // raft::Options::quiesce_ticks (the ReplicaSet wakes followers of dead leaders)
  raft::Durability durability = raft::Durability::kSynced;
  // In sync (in_sync()): a follower that held every committed entry at some
  // tick within the last lag_ticks (replica.lag.time.max.ms), so one that
  // trails the commit by a round trip under load is not dropped and re-added
  // (and reported to the controller) all the time.
  int lag_ticks = 10;
  // raft::PartitionRaftLogOptions::file_span_min_bytes: data batches at least
  // this large are read for catch-up as file ranges (sent with sendfile).
  size_t file_span_min_bytes = 16 << 10;
  uint64_t seed = 0;
  // The CreateTime written into Raft's control batches (tests pin it so that
  // replicas' logs are byte-identical).
  std::function<int64_t()> clock = storage::system_clock_ms;
};

// What a produce's records wait for.
enum class ReplicaAck : uint8_t { kAppended, kCommitted };

class PartitionReplica {
 public:
  // `log` is open with HwPolicy::kManual (the commit index moves the high
  // watermark); its directory holds the term/vote and snapshot files.
  static storage::Result<std::unique_ptr<PartitionReplica>> open(std::shared_ptr<storage::Log> log,
                                                                 const PartitionReplicaOptions& options);
  ~PartitionReplica();

  struct Proposed {
    int16_t error = 0;  // 0, NOT_LEADER_OR_FOLLOWER (6), or a storage error's code
    int64_t first = -1, last = -1;
    int32_t term = -1;
    std::string message;
  };
  // Leader only: one producer batch (its bytes whole; baseOffset and
  // partitionLeaderEpoch are stamped into the copy written).
  Proposed propose(std::vector<uint8_t> batch, int32_t record_count);
  // Leader only: DeleteRecords as a LogStart entry (one offset; Raft control
  // batch, skipped by consumers). Every replica appending it moves its log
  // start to `offset`, never past its own commit + 1 (partition_log.h), so
  // once wait(last, term, kCommitted) answers 0 no later leader serves an
  // offset below it. OFFSET_OUT_OF_RANGE above the high watermark.
  Proposed propose_log_start(int64_t offset);
  // `done(error)` once the entry proposed as (last, term) is appended here or
  // committed, as `ack` asks; NOT_LEADER_OR_FOLLOWER as described above.
  // `entry_term`: the term the entry at `last` must have when reached, when
  // not `term` (a retried batch found in the log as an earlier leader wrote it).
  void wait(int64_t last, int32_t term, ReplicaAck ack, std::function<void(int16_t error)> done,
            int32_t entry_term = -1);

  void tick();
  void step(const raft::Message& m);
  void campaign() { raft_->campaign(); }
  bool quiesced() const { return raft_->quiesced(); }
  raft::Durability durability() const { return raft_->durability(); }
  void set_durability(raft::Durability d) { raft_->set_durability(d); }
  // Something for drive() to do: Raft has a Ready, or produces wait for an answer.
  bool busy() const { return raft_->has_ready() || !waiters_.empty(); }
  void wake() { raft_->wake(); }
  void leader_unreachable(int32_t broker) { raft_->leader_unreachable(raft::NodeId(broker)); }
  bool transfer_leadership(int32_t to) { return raft_->transfer_leadership(raft::NodeId(to)); }
  // Persists what Raft asks (raft.h's order), appends the messages to send to
  // `out`, moves the high watermark to the commit, and answers waiters. An
  // error stops this replica (the caller takes the partition offline).
  storage::Status drive(std::vector<raft::Message>& out);
  // drive() in three steps, so an owner of many replicas can persist theirs
  // side by side (ReplicaSet::drive on an IoPool): take_ready() and finish()
  // on the owner's thread, persist() on any thread, never two at once for one
  // replica, and never with any other call on it in between. take_ready():
  // what Raft asks now, if anything. persist(): raft.h's steps 1-4 (the
  // replica's log and raft.state only). finish(): the messages to `out`, the
  // commit, advance, waiters answered; then has_more() says whether Raft asks
  // again (drive() covers that).
  std::optional<raft::Ready> take_ready();
  storage::Status persist(const raft::Ready& rd);
  void finish(raft::Ready rd, std::vector<raft::Message>& out);
  bool has_more() const { return raft_->has_ready(); }

  bool is_leader() const { return raft_->role() == raft::Role::kLeader; }
  int32_t leader() const { return static_cast<int32_t>(raft_->leader().value()); }
  int32_t term() const { return static_cast<int32_t>(raft_->term().value()); }
  // The term of the entry at `last` in this replica's log, -1 if none there.
  int32_t term_at(int64_t last) const {
    auto t = log_->term_at(raft::Index(last));
    return t ? static_cast<int32_t>(t->value()) : -1;
  }
  int64_t high_watermark() const { return raft_->commit().value() + 1; }
  int64_t log_start() const { return storage_->log_start_offset().value(); }
  // The highest offset a LogStart entry in this replica's log named (0: none).
  int64_t log_start_floor() const { return log_->log_start_floor().value(); }
  int64_t log_end() const { return log_->last().value() + 1; }
  const raft::Config& config() const { return raft_->config(); }
  // Not a voter here (yet): a replica a reassignment adds, catching up.
  bool learning() const { return !raft_->config().is_voter(raft::NodeId(me_)); }

  // Which catch-up the owner's throttles govern for this partition
  // (throttle.h). Leading: the appends to a peer (raft::Options::throttles).
  // Following: catching_up(m) says whether the append `m` is catch-up traffic
  // the follower's throttle governs.
  void set_throttle(ThrottleScope s) { throttle_ = s; }
  const ThrottleScope& throttle() const { return throttle_; }
  bool throttles(int32_t to, bool learner) const;
  bool catching_up(const raft::Message& m) const;
  // raft::Options::intake_limit: the follower window while catching up.
  size_t intake_limit(const raft::Message& m, bool behind) const;

  // Where a reassignment wants the group (the metadata image's replicas,
  // adding, removing): target voters = replicas - removing.
  struct Assignment {
    std::vector<int32_t> replicas, adding, removing;
  };
  // Leader only, one step at a time (call it again on later ticks): the
  // target's new replicas join as learners; once every one of them holds the
  // commit, the voters change to the target by joint consensus (raft.h; both
  // majorities decide meanwhile, so the group never has fewer voters than its
  // replication factor). A cancel is the same toward the original replicas.
  // Returns the voters when the group runs on exactly the target (not joint,
  // no learners): what the leader reports to the controller to end the move.
  std::optional<std::vector<int32_t>> steer(const Assignment& a);
  // In-sync replicas, as the leader sees them: itself and every voter whose
  // log holds every committed entry (Progress::match >= commit) now, or was
  // last caught up within lag_ticks. Caught up is Kafka's lastCaughtUpTime,
  // judged on the follower's own answers (append and heartbeat responses):
  // an answer showing it holds the commit makes it caught up then; one showing
  // it holds the commit of its previous answer makes it caught up as of that
  // previous answer (a follower trailing by a round trip under load stays in
  // sync). A follower that stops answering keeps no credit it did not earn by
  // answering, and loses it at once when its broker goes silent (Kafka's
  // leader loses it through fencing or controlled shutdown): back, it is in
  // sync only once it holds the commit. Empty when this replica does not lead.
  std::vector<int32_t> in_sync() const;
  // `broker` went silent: its in-sync credit is forgotten (above).
  void forget_caught_up(int32_t broker);
  size_t waiting() const { return waiters_.size(); }
  storage::Log& storage() { return *storage_; }
  const storage::Log& storage() const { return *storage_; }

 private:
  PartitionReplica() = default;
  Proposed propose_entry(std::vector<uint8_t> payload, int32_t record_count, raft::EntryType type);
  void answer_waiters();

  std::shared_ptr<storage::Log> storage_;
  std::unique_ptr<raft::PartitionRaftLog> log_;
  std::unique_ptr<raft::HardStateFile> hard_state_;
  std::unique_ptr<raft::Raft> raft_;
  struct Waiter {
    int32_t term;        // this replica's term when it was asked (leadership must hold)
    int32_t entry_term;  // the term of the entry at `last`
    ReplicaAck ack;
    std::function<void(int16_t)> done;
  };
  std::multimap<int64_t, Waiter> waiters_;  // by the entry's last offset
  int lag_ticks_ = 10;
  int64_t ticks_ = 0;
  struct Answered {
    int64_t caught_up = -1;  // the last tick it was caught up (-1: not since it was last forgotten)
    int64_t at = -1;         // the tick of its last answer
    int64_t commit = -1;     // the commit index then
  };
  std::map<int32_t, Answered> caught_up_;  // leading: each voter's answers (in_sync)
  int32_t me_ = -1;
  ThrottleScope throttle_;
  std::function<size_t()> follower_window_;
};

}  // namespace millrace::cluster
