// Replicator: what a replicated partition (replication factor > 1, a Raft
// group over its replicas) puts behind Partition: the produce path and the
// leadership facts, both from the partition's own Raft group instead of the
// metadata image. The broker's replication service (broker/replication/)
// implements it; a Partition without one is served as on a single node.
//
// Thread-safety: both calls from any thread.
#pragma once

#include <cstdint>
#include <span>

#include <boost/asio/any_io_executor.hpp>

#include "cluster/partition/partition.h"

namespace millrace::cluster {

struct LogStartMove {
  storage::Status proposed;
  std::shared_ptr<AckWait> committed;  // null when !proposed.ok()
};

class Replicator {
 public:
  virtual ~Replicator() = default;
  // Partition::replicate's contract: stage 1 (checked and proposed, or the
  // error: NOT_LEADER_OR_FOLLOWER as storage::Errc::kNotLeader, sequence
  // errors as Log::append gives them) and stage 2, done when `acks` hold
  // (acks=all: committed, a majority holding it; acks=1: in the leader's log).
  virtual Replicated replicate(std::span<uint8_t> records, int16_t acks, boost::asio::any_io_executor ex) = 0;
  // Leader (-1 when none known), leader epoch (the Raft term), replicas, in-sync replicas.
  virtual LeadershipFacts facts() const = 0;
  // DeleteRecords on the leader: the log start moves to `offset` (<= the high
  // watermark) on every replica, as a LogStart entry of the Raft log
  // (cluster/replication/partition_replica.h). `proposed` not ok: nothing was
  // proposed (NOT_LEADER_OR_FOLLOWER as kClosed, OFFSET_OUT_OF_RANGE); else
  // `committed` completes ok once the entry is committed (every in-sync
  // replica holds it: none serves an offset below it again, nor any later
  // leader), or with kClosed when leadership moved first (outcome unknown).
  virtual LogStartMove move_log_start(Offset offset, boost::asio::any_io_executor ex) = 0;
};

}  // namespace millrace::cluster
