// The life of a `Rebalance` resource (millrace.io/v1alpha1) as a pure state
// machine: one call per reconcile, from what the reconciler observed to the
// status to write and the actions to take. Level-triggered: every input is
// observed afresh (the plan is read back from where it was stored, the moves in
// flight from ListPartitionReassignments, the replica lists from Metadata), so
// an operator restart in the middle resumes the plan without moving anything
// twice.
//
//   New ──proposal──▶ ProposalReady ──approve / autoApprove──▶ Rebalancing ──all moved──▶ Ready
//    │                   ▲   │ refresh                            │ stop          │ refresh
//    ▼                   │   ▼                                    ▼               ▼
//   NotReady (the plan is infeasible; refresh retries)          Stopped ──approve──▶ Rebalancing
//                                                                  └──refresh──▶ ProposalReady
// A proposal without moves goes straight to Ready. Approval (the annotation
// millrace.io/rebalance=approve, or spec.autoApprove) recomputes the plan first
// (it may be stale) and runs that. Rebalancing submits moves while each
// receiving broker has fewer than spec.concurrentMoves in flight, keeps the
// replication throttle set, and counts a move done when its partition has the
// planned replica list and is no longer reassigning; a partition someone else
// moved meanwhile is skipped and named. `stop` submits nothing more and cancels
// the plan's moves in flight (the brokers revert each to its replicas before the
// move: a reassignment is finished or cancelled, never left half done); it
// asks again while one is still listed, and is Stopped once none is. Strimzi
// lets the batch in flight finish instead; a cancel frees the brokers at once
// and loses only the copy under way. A spec change outside Rebalancing makes a
// new proposal.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "operator/planner/planner.h"

namespace millrace::op::rebalance {

using TopicPartition = std::pair<std::string, int32_t>;

enum class State { kNew, kProposalReady, kRebalancing, kStopped, kReady, kNotReady };
const char* to_string(State s);
std::optional<State> state_from(const std::string& s);

struct Spec {
  planner::Options planner;              // mode, brokers, excluded topics, bands
  bool auto_approve = false;
  int64_t throttle_bytes_per_s = 50ll << 20;  // leader/follower.replication.throttled.rate while moving
  int32_t concurrent_moves = 5;          // moves in flight per receiving broker
};

struct Progress {
  int32_t moves_total = 0, moves_done = 0, moves_in_flight = 0;
  int64_t bytes_total = 0, bytes_left = 0;
  int64_t started_ms = 0;
  int64_t eta_seconds = -1;  // -1: unknown
  std::vector<std::string> skipped;  // partitions moved by someone else: "t-3"
};

struct Status {
  State state = State::kNew;
  int64_t observed_generation = 0;
  int64_t proposal_ms = 0;  // when the plan was computed
  planner::Plan proposal;   // summary fields; the moves are stored apart (Inputs::stored_plan)
  Progress progress;
  std::string message;      // why it is in this state (NotReady's problems, Ready's "balanced")
};

struct Inputs {
  Spec spec;
  int64_t generation = 0;
  std::string annotation;                  // millrace.io/rebalance: approve | stop | refresh | ""
  Status status;                           // as last written
  std::vector<planner::Reassignment> stored_plan;  // the moves of status.proposal
  planner::Cluster cluster;                // as observed now (replica lists = Metadata's)
  std::set<TopicPartition> in_flight;      // ListPartitionReassignments
  int64_t now_ms = 0;
};

struct Outputs {
  Status status;
  std::optional<std::vector<planner::Reassignment>> store_plan;  // replace the stored moves
  std::vector<planner::Reassignment> submit;  // AlterPartitionReassignments now
  std::vector<TopicPartition> cancel;         // AlterPartitionReassignments with no replicas (stop)
  std::optional<int64_t> throttle;            // set this rate on the brokers moving data
  bool clear_throttle = false;
  bool clear_annotation = false;              // the annotation was acted on (or is unknown)
  std::vector<std::string> events;            // "Reason: message"
  int64_t requeue_after_ms = 0;               // 0: only on change
};

Outputs step(const Inputs& in);

}  // namespace millrace::op::rebalance
