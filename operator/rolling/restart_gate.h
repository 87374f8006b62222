// The restart gate of a rolling restart: may this broker be restarted now
// without making a partition unwritable or the controller quorum lose its
// majority, in which order the brokers go, and when a restarted broker counts
// as back. Pure: the reconciler fills the state from Metadata (replicas, ISR,
// min.insync.replicas) and DescribeQuorum, and acts on the verdict.
//
// A broker may restart when, for every partition it holds a replica of:
//   - the partition is not already below min.insync.replicas (ISR < min.insync),
//   - its ISR is not exactly min.insync.replicas with the broker in it while
//     min.insync.replicas < the replication factor (acks=all would stop; when
//     min.insync equals the replication factor no order avoids that, so it
//     does not block: Strimzi's KafkaRoller rule), and
//   - Millrace's partitions are Raft groups: with 3 or more replicas, the ISR
//     without the broker still holds a majority of the replicas (else even
//     acks=1 stops; with 1 or 2 replicas no order avoids it);
// and, when it is a controller voter: a quorum leader exists and, with 3 or
// more voters, the caught-up voters other than it are still a majority of the
// voters (of 1 or 2 voters none can restart without the quorum stopping for
// that while: no order avoids it, so it does not block).
// A broker that is itself not serving (its pod not Ready) may always restart:
// restarting it cannot take away what it does not give.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace millrace::op::rolling {

struct PartitionState {
  std::string topic;
  int32_t partition = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  int32_t min_insync = 1;  // the topic's effective min.insync.replicas
};

struct QuorumState {
  std::vector<int32_t> voters;
  std::vector<int32_t> caught_up;  // voters whose log is caught up with the leader's
  int32_t leader = -1;             // the active controller; -1: none
};

struct Verdict {
  bool allowed = true;
  int blocked_partitions = 0;
  std::vector<std::string> reasons;  // the first few blockers, each naming what and why
  // One line for a condition or an event: "restart of broker 2 waits: ..." or "".
  std::string message(int32_t broker) const;
};

Verdict may_restart(int32_t broker, bool broker_serving, const std::vector<PartitionState>& partitions,
                    const QuorumState& quorum);

// The order of a roll: brokers that are not controller voters, then the voters,
// the active controller last; by id within each group.
std::vector<int32_t> restart_order(std::vector<int32_t> brokers, const QuorumState& quorum);

// A restarted broker is back when it is in the ISR of every partition it holds
// a replica of and, as a voter, caught up with the quorum; else the reasons.
Verdict caught_up(int32_t broker, const std::vector<PartitionState>& partitions, const QuorumState& quorum);

}  // namespace millrace::op::rolling
