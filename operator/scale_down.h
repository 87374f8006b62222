// Scale-down safety: how far a Millrace's StatefulSet may shrink toward
// spec.brokers without removing a broker that still hosts partition replicas.
//
// A StatefulSet removes its highest ordinals first, so the plan walks down from
// the live size and stops at the first broker that is not known to be empty:
// the StatefulSet is held at that size while the departing brokers are drained
// (a remove-brokers Rebalance the reconciler makes, docs/rebalance.md) and the
// Millrace gets ScaleDownBlocked=True naming the broker
// (by the node id the operator recorded for the pod, not by a guessed ordinal) and how
// many partitions it holds. A broker that cannot be asked blocks too. Pure logic.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace millrace::op {

struct BrokerLoad {
  int32_t broker_id = -1;   // the node id recorded for the pod (node_ids.h), -1 when unknown
  std::string pod;          // "<millrace>-<ordinal>"
  int partitions = 0;       // partition replicas it hosts
  std::string error;        // non-empty: could not find out (counts as not empty)
  std::string drain;        // how its draining goes (the remove-brokers Rebalance's state), for the message
  bool empty() const { return error.empty() && partitions == 0; }
};

struct ScaleDownPlan {
  int replicas = 0;                   // what the StatefulSet may have now
  std::optional<BrokerLoad> blocker;  // the broker that holds it there, if any
};

// REQUIRES: live >= 0, desired >= 0. load(ordinal) is asked only for the
// ordinals that would go (desired <= ordinal < live), highest first.
ScaleDownPlan plan_scale_down(int live, int desired, const std::function<BrokerLoad(int ordinal)>& load);

// How many brokers to aim for: spec.brokers, but never fewer than the pods that
// hold the controller quorum's voters (voter_pods, node_ids.h
// pods_holding_voters): a static quorum loses a voter for good when its pod goes.
// REQUIRES: spec_brokers >= 0, voter_pods >= 0.
int brokers_to_run(int spec_brokers, int voter_pods);

// The ScaleDownBlocked condition's message for a blocker.
std::string scale_down_message(const BrokerLoad& b, int live, int desired);

}  // namespace millrace::op
