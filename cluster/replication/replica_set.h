// ReplicaSet: every partition replica one broker holds, driven together, with
// their Raft messages coalesced per peer broker (Redpanda's shape: one batch
// per broker pair per round, whatever the number of partitions the two share;
// raft/rpc's codec packs a beat that changes nothing into 29 bytes).
//
//   tick()             every replica's clock (the owner's timer)
//   deliver(messages)  a batch another broker sent: each message stepped into
//                      its group (messages for groups this broker does not
//                      hold are dropped and counted)
//   drive()            every replica persisted and its messages collected, by
//                      destination broker: one entry per peer, ready for
//                      raft::rpc::encode_batch
//
// Group ids: group_id(topic id, partition), a 64-bit hash; add() refuses a
// group id already held by another partition rather than mix two groups.
// Not thread-safe: one owner (the broker's replication thread) calls it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster/replication/partition_replica.h"

namespace millrace::cluster {

int64_t group_id(const std::array<uint8_t, 16>& topic_id, int32_t partition);

class ReplicaSet {
 public:
  explicit ReplicaSet(int32_t me, int election_ticks = 10) : me_(me), election_ticks_(election_ticks) {}

  // Opens the replica of `group` over `log` (its first configuration: `replicas`).
  storage::Status add(int64_t group, std::shared_ptr<storage::Log> log, const std::vector<int32_t>& replicas,
                      raft::Durability durability = raft::Durability::kSynced);
  void remove(int64_t group);
  PartitionReplica* get(int64_t group);
  size_t size() const { return replicas_.size(); }

  void tick();
  void deliver(const std::vector<raft::Message>& messages);
  // Per destination broker, the messages to send now. A replica whose drive
  // failed is reported in `failed` (group, why) and removed: its partition is
  // offline until the owner opens it again.
  std::map<int32_t, std::vector<raft::Message>> drive(std::vector<std::pair<int64_t, storage::Status>>* failed = nullptr);

  uint64_t dropped() const { return dropped_; }  // messages for groups not held here

 private:
  int32_t me_;
  int election_ticks_;
  std::map<int64_t, std::unique_ptr<PartitionReplica>> replicas_;
  uint64_t dropped_ = 0;
};

}  // namespace millrace::cluster
