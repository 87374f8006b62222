// The controller's decision on what a replicated partition's leader reports:
// a partition with more than one replica is a Raft group, which elects its
// leader itself; the leader epoch is the Raft term. A broker that became
// leader (or whose leader's ISR changed) reports it, and the active
// controller answers with the PartitionLeaderRecords
// (cluster/metadata/records/spec/PartitionLeaderRecord.json) that write it
// into the metadata log, so every broker's image shows it. Pure, like
// topic_control.h: the state changes only when the records are committed and
// applied.
//
// The reporter must be registered with the broker epoch it gives (else
// BROKER_ID_NOT_REGISTERED / STALE_BROKER_EPOCH) and not fenced (else
// BROKER_NOT_AVAILABLE: it reports again once unfenced). Each partition of the
// report is then judged alone, and one that does not qualify writes nothing
// and fails no other: a partition the state already shows exactly so, an
// older term than the state's (or its term with another leader: a report that
// lost a race with a newer one), a leader other than the reporter, an unknown
// partition, one of a single replica (the controller still places those,
// broker_control.h), a leader or ISR outside the replicas. Those skipped are
// named in the result's message, for the log.
#pragma once

#include <cstdint>
#include <vector>

#include "cluster/controller/topic_control.h"

namespace millrace::cluster {

// A partition of more than one replica is a Raft group: it elects its leader
// and keeps its ISR itself, and the controller only records what its leader
// reports (report_leadership below), never moves them (broker_control.h).
inline bool led_by_raft(const PartitionState& p) { return p.replicas.size() > 1; }

struct PartitionLeadership {
  TopicId topic{};
  int32_t partition = -1;
  int32_t leader = -1;
  int32_t leader_epoch = -1;  // the Raft term
  std::vector<int32_t> isr;
  // While the partition is reassigned: the group's voters once they are the
  // target (reassignment_control.h ends the move); empty otherwise.
  std::vector<int32_t> voters;
  bool operator==(const PartitionLeadership&) const = default;
};

struct LeadershipReport {
  int32_t broker_id = -1;
  int64_t broker_epoch = -1;
  std::vector<PartitionLeadership> partitions;
  bool operator==(const LeadershipReport&) const = default;
};

// One PartitionLeaderRecord per partition that qualifies, in report order
// (a partition reported twice: each judged against the one before it), and
// after it the record that ends a reassignment its voters complete.
ControlResult report_leadership(const MetadataState& state, const LeadershipReport& report);

}  // namespace millrace::cluster
