// Partition: one partition as this broker serves it. Owns its log
// (storage::Log), its leadership facts, its high watermark and the waiters
// parked on it, and the one call that takes a produce's records to "the acks
// are satisfied" (replicate). Handlers reach partitions only through the
// PartitionManager (partition_manager.h); replication will change what
// replicate() and high_watermark() do inside, not what handlers call.
//
// Today (one node): this node leads every partition at epoch 0, replicas = ISR
// = {this node}; the high watermark is the Log's (HwPolicy kOnFlush with
// log.flush.on.acks.all, the default, so readers see only what is synced).
//
// replicate() has two stages, as Redpanda's replicate_in_stages, so a
// connection can pipeline produces (broker/kafka/staged.h): it appends now (in
// the caller's order) and returns the append result with an AckWait that
// completes when `acks` are satisfied:
//   acks 0, 1        the records are written out of the user-space append
//                    buffer (in the page cache: a kill -9 does not lose them;
//                    acks=0 leaves that to the buffer's linger timer)
//   acks -1          synced (group commit, Log::flush_up_to) when
//                    sync_on_acks_all (log.flush.on.acks.all), else written out
//
// Thread-safety: every call may run on any thread, except that an AckWait is
// awaited once, on the executor given to replicate().
#pragma once

#include <utility>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "cluster/partition/hw_waiters.h"
#include "protocol/generated/error_codes.h"
#include "storage/log.h"
#include "storage/log_manager.h"

namespace millrace::cluster {

class Replicator;

struct LeadershipFacts {
  int32_t leader = -1;  // node id; -1 = no leader
  LeaderEpoch leader_epoch{0};
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  bool operator==(const LeadershipFacts&) const = default;
};

// A single node's facts: `self` leads at epoch 0, the only replica.
LeadershipFacts sole_leader(int32_t self);

struct PartitionOptions {
  bool sync_on_acks_all = true;  // log.flush.on.acks.all
  // The facts a partition starts with when the PartitionManager adopts its
  // log; unset: sole_leader(self). A cluster gives the metadata image's (no
  // leader when the image does not name the partition yet): a partition of a
  // replicated topic must never start as this broker's alone.
  std::function<LeadershipFacts(const storage::TopicPartition&)> initial_facts;
};

// Stage 2 of replicate(): the acks of one partition's append. Awaited once,
// on the executor given to replicate(); its result is set there (posted from
// the flush thread), so it may fire after the awaiting request is gone.
class AckWait {
 public:
  // Acks already satisfied (or failed): `st` is the answer.
  static std::shared_ptr<AckWait> done(storage::Status st, boost::asio::any_io_executor ex);
  // Acks satisfied when someone calls complete() (a replicated partition's commit).
  static std::shared_ptr<AckWait> pending(boost::asio::any_io_executor ex);
  // Any thread: sets the answer on the executor (the first call wins).
  static void complete(const std::shared_ptr<AckWait>& a, storage::Status st);
  // Acks satisfied once `log` is synced up to `up_to`.
  static std::shared_ptr<AckWait> sync(storage::Log& log, Offset up_to, boost::asio::any_io_executor ex);

  bool ready() const { return status_.has_value(); }
  // REQUIRES: ready().
  const storage::Status& status() const { return *status_; }
  // REQUIRES: called once, on the executor.
  boost::asio::awaitable<storage::Status> wait();

 private:
  explicit AckWait(boost::asio::any_io_executor ex) : ex_(ex), timer_(std::move(ex)) {}
  boost::asio::any_io_executor ex_;
  boost::asio::steady_timer timer_;
  std::optional<storage::Status> status_;
};

struct Replicated {
  storage::Result<storage::AppendResult> appended;  // stage 1; not ok: nothing to await
  std::shared_ptr<AckWait> acks;                    // stage 2; null when !appended.ok()
};

class Partition {
 public:
  Partition(storage::TopicPartition tp, std::shared_ptr<storage::Log> log, LeadershipFacts facts,
            PartitionOptions options = {});

  const storage::TopicPartition& tp() const { return tp_; }
  // The log (reads, offsets, DeleteRecords); never null.
  const std::shared_ptr<storage::Log>& log() const { return log_; }
  bool is_offline() const { return log_->is_offline(); }

  // The facts handlers check: the replicator's (its Raft group's) when the
  // partition is replicated, else the metadata image's (set_leadership).
  LeadershipFacts leadership() const;
  void set_leadership(LeadershipFacts facts);
  // The facts set_leadership() last gave (the image's), whatever leads.
  LeadershipFacts image_facts() const;
  // A replicated partition: produce and leadership go through `r` from now
  // on (null: back to the single-node path). Wakes parked fetches.
  void set_replicator(std::shared_ptr<Replicator> r);
  std::shared_ptr<Replicator> replicator() const;
  bool is_leader(int32_t self) const;
  // Kafka's leader check for a request naming the leader epoch it knows
  // (ReplicaManager / Partition.checkLeaderEpoch): NOT_LEADER_OR_FOLLOWER
  // when `self` does not lead; with current_leader_epoch != -1, FENCED_LEADER_EPOCH
  // when it is older than the partition's and UNKNOWN_LEADER_EPOCH when newer.
  // kNone when the request may be served.
  proto::ErrorCode check_leader(int32_t self, int32_t current_leader_epoch = -1) const;
  // The same check for a consumer that may read from a follower (Fetch v11+,
  // KIP-392: Kafka's fetchOnlyFromLeader is false for it): check_leader's
  // answer when `self` leads; on a follower (a replica of a replicated
  // partition whose Raft group is open here), kNone, or with
  // current_leader_epoch != -1 FENCED_LEADER_EPOCH when it is older than the
  // epoch this replica knows and UNKNOWN_LEADER_EPOCH when newer;
  // NOT_LEADER_OR_FOLLOWER when this broker holds no replica of it.
  proto::ErrorCode check_replica(int32_t self, int32_t current_leader_epoch = -1) const;

  // What readers may see: offsets below it. On a replicated partition the
  // commit index this replica knows + 1: on a follower, what it learned from
  // the leader, never its log end.
  Offset high_watermark() const { return log_->high_watermark(); }

  // A consumer's read (Fetch, leader or follower alike): whole batches from
  // the one holding `fetch_offset`, at most max_bytes unless the first batch
  // alone is larger, all below the high watermark taken first. Raft's own
  // entries (LeaderChange, Voters: control batches Kafka's partitions never
  // hold) are stepped over, never returned: a run of them is one step, at most
  // kMaxRaftControlSkipped steps per read, then an empty region (the next
  // fetch goes on from there). fetch_offset in [high watermark, log end]:
  // empty; outside [log start, log end]: kOffsetOutOfRange (on a follower
  // behind the consumer, Kafka's answer, and the consumer goes back to the
  // leader). The high watermark returned is the consumer's
  // (consumer_high_watermark).
  struct ConsumerRead {
    Offset high_watermark;
    storage::Result<storage::FileRegion> region;
  };
  static constexpr int kMaxRaftControlSkipped = 64;
  // The high watermark `hw` as consumers are told it (Fetch, ListOffsets
  // latest): below it by the run of Raft's own entries that ends the
  // committed log, so that a consumer that has read every record is at the
  // end (no lag, kcat -e ends), as it would be on Kafka, whose partitions hold
  // no such entries.
  Offset consumer_high_watermark(Offset hw) const;
  ConsumerRead read_for_consumer(Offset fetch_offset, int32_t max_bytes) const;
  HwWaiters& hw_waiters() { return waiters_; }
  // The high watermark may have moved: wakes this partition's parked fetches.
  void notify_hw_moved() { waiters_.notify(); }

  // Stage 1: appends `records` (record batches v2) as the current leader
  // epoch, writes them out for acks 0/1/-1-without-sync, starts the sync for
  // acks=-1 with sync_on_acks_all. REQUIRES: acks in {0, 1, -1}.
  Replicated replicate(std::span<uint8_t> records, int16_t acks, boost::asio::any_io_executor ex);

 private:
  const storage::TopicPartition tp_;
  const std::shared_ptr<storage::Log> log_;
  const PartitionOptions options_;
  mutable std::mutex mu_;
  LeadershipFacts facts_;  // GUARDED_BY(mu_)
  std::shared_ptr<Replicator> replicator_;  // GUARDED_BY(mu_)
  HwWaiters waiters_;
};

}  // namespace millrace::cluster
