// Scale-down safety: how far a Millrace's StatefulSet may shrink toward
// spec.brokers without removing a broker that still hosts partition replicas.
//
// A StatefulSet removes its highest ordinals first, so the plan walks down from
// the live size and stops at the first broker that is not known to be empty:
// without replication there is nowhere to move its data, so the StatefulSet is
// held at that size and the Millrace gets ScaleDownBlocked=True naming the broker
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
  bool empty() const { return error.empty() && partitions == 0; }
};

struct ScaleDownPlan {
  int replicas = 0;                   // what the StatefulSet may have now
  std::optional<BrokerLoad> blocker;  // the broker that holds it there, if any
};

// REQUIRES: live >= 0, desired >= 0. load(ordinal) is asked only for the
// ordinals that would go (desired <= ordinal < live), highest first.
ScaleDownPlan plan_scale_down(int live, int desired, const std::function<BrokerLoad(int ordinal)>& load);

// Brokers do not replicate yet: N brokers would be N separate single-node
// clusters behind one bootstrap Service. Until the replication issue lifts it,
// the operator runs at most this many.
inline constexpr int kMaxBrokersUntilReplication = 1;

// How many brokers to aim for: spec.brokers when allowed; above the limit, the
// limit, except that a larger live StatefulSet (live = its replicas, -1 when
// there is none) is left at its size, never scaled down on this account (its
// volumes hold data) and never grown. REQUIRES: spec_brokers >= 0.
int brokers_to_run(int spec_brokers, int live);

// The ScaleDownBlocked condition's message for a blocker.
std::string scale_down_message(const BrokerLoad& b, int live, int desired);

}  // namespace millrace::op
