// One step of a rolling restart, decided from what a pass sees: which broker
// the operator restarts now, or why none goes yet. Pure: the Millrace
// reconciler fills the members from its pods and StatefulSet, the partitions
// and quorum from Metadata and DescribeQuorum, and acts on the step (deletes
// the pod, whose StatefulSet, OnDelete, makes it again from the new template).
//
// A roll restarts the brokers whose pod runs an old template (or carries the
// restart annotation), one at a time, in restart_order (brokers, then
// controller voters, the active controller last). Each waits until:
//   - every broker's pod is Ready (none is down already), and
//   - the one restarted before is back (caught_up: in every ISR it belongs
//     to, caught up with the controller quorum), and
//   - the restart gate lets it go (may_restart).
// Leadership leaves the broker through its own controlled shutdown on SIGTERM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operator/rolling/restart_gate.h"

namespace millrace::op::rolling {

struct RollMember {
  int32_t id = -1;
  std::string pod;
  bool outdated = false;  // runs an older pod template, or was asked to restart
  bool ready = false;     // its pod is Ready, not being deleted, its broker registered and unfenced
};

enum class RollAction {
  kIdle,     // nothing to restart, nothing to wait for
  kWait,     // a restart is pending or the last one is not back yet
  kSettled,  // `restarted` is back: forget it (and hand leaders back) before the next
  kRestart,  // restart `broker` now
};

struct RollStep {
  RollAction action = RollAction::kIdle;
  int32_t broker = -1;           // kRestart: which; kSettled: the one back
  std::vector<int32_t> pending;  // brokers still to restart, in order
  std::string reason;            // for a condition: Restarting, WaitingForBroker, Blocked
  std::string message;
};

// `restarted`: the broker the last step restarted (status.roll.restarting), -1 none.
RollStep next_roll_step(const std::vector<RollMember>& members, int32_t restarted,
                        const std::vector<PartitionState>& partitions, const QuorumState& quorum);

}  // namespace millrace::op::rolling
