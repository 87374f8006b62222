// Partition reassignment as records (KRaft's ReplicationControlManager and
// PartitionReassignmentReplicas in their shape): AlterPartitionReassignments
// checked against the metadata state and answered with the PartitionChangeRecord
// that starts, replaces or cancels a move, and the record that ends one once the
// partition's Raft group runs on the target replicas. Pure, as topic_control.h.
//
// While a partition moves, its replicas are the target's followed by the
// original replicas leaving (replicas = target + removing), `adding` the target
// replicas it did not have, `removing` the original ones the target drops; its
// leader adds the new replicas as Raft learners, lets them catch up, and changes
// the voters by joint consensus, then reports the group's voters; the
// controller's completing record leaves replicas = target and nothing adding
// or removing. A target with the same brokers in another order only reorders
// (the first replica is the preferred leader): one record, nothing moves.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "cluster/controller/topic_control.h"

namespace millrace::cluster {

// A partition's move: `target` replaces the replicas (and any move in
// progress); nullopt cancels the move in progress, back to the original
// replicas. Errors, with Kafka's codes and messages:
//   UNKNOWN_TOPIC_OR_PARTITION, NO_REASSIGNMENT_IN_PROGRESS (cancel of nothing),
//   INVALID_REPLICA_ASSIGNMENT (no replicas, a replica twice, a broker not registered,
//   one replica to several or back: a Raft group is not made from a single-node
//   partition, nor undone, by a move).
ControlResult alter_partition_reassignment(const MetadataState& state, std::string_view topic, int32_t partition,
                                           const std::optional<std::vector<int32_t>>& target);

// The original replicas of a partition (its replicas without those being added).
std::vector<int32_t> original_replicas(const PartitionState& p);
// The replicas a move ends with (its replicas without those being removed).
std::vector<int32_t> target_replicas(const PartitionState& p);
bool reassigning(const PartitionState& p);

// The record that ends a move once the partition's Raft voters are exactly the
// target replicas (in any order): replicas = target, nothing adding or removing,
// the ISR without the replicas that left. No records when the partition is not
// moving, the voters are not the target yet, or its leader is one that leaves
// (it steps down once the new voters are committed; the next leader reports).
// `leader` and `isr`: the partition's once the records before this one apply
// (the leader's report that carries the voters may also change them).
ControlResult complete_reassignment(const MetadataState& state, const TopicId& topic, int32_t partition,
                                    const std::vector<int32_t>& voters, int32_t leader,
                                    const std::vector<int32_t>& isr);

}  // namespace millrace::cluster
