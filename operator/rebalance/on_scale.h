// Rebalances a Millrace makes for itself when spec.brokers changes (issue 19:
// "automatic on scale"), after Strimzi's auto-rebalancing on scaling (which
// makes KafkaRebalance objects from a template): raising spec.brokers makes the
// new brokers, then an add-brokers Rebalance moves partitions onto them once
// every broker is Ready; lowering it makes a remove-brokers Rebalance that
// drains the departing brokers (by node id) while the StatefulSet is held (see
// scale_down.h), and the StatefulSet shrinks once they host nothing.
//
// What has been balanced in is remembered in the Millrace's
// status.balancedBrokers (node ids), so an add-brokers happens once per new
// broker, level-triggered: a Millrace seen for the first time adopts its
// brokers as they are (no rebalance of an existing cluster on upgrade), a
// broker that leaves is forgotten (it comes back empty, with its old id, and is
// balanced in again). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace millrace::op::rebalance {

struct ScaleFacts {
  std::vector<int32_t> kept;       // node ids of the pods the StatefulSet keeps (ordinals < wanted)
  std::vector<int32_t> departing;  // node ids of the pods that go (wanted <= ordinal < live)
  bool departing_hold_data = false;  // some departing broker still hosts replicas (or cannot be asked)
  bool kept_ready = false;         // every kept pod exists and is Ready (its broker registered)
  std::optional<std::vector<int32_t>> balanced;  // status.balancedBrokers; nullopt: never recorded
};

enum class ScaleAction { kNone, kAddBrokers, kRemoveBrokers };

struct ScaleDecision {
  ScaleAction action = ScaleAction::kNone;
  std::vector<int32_t> brokers;        // the Rebalance's spec.brokers
  std::vector<int32_t> balanced;       // status.balancedBrokers to record (sorted)
};

ScaleDecision decide_on_scale(const ScaleFacts& facts);

// The Rebalance the Millrace makes for a decision: one per generation of the
// Millrace and kind, so a later scale (a new generation) never finds an old,
// finished one under its name: "<millrace>-g<generation>-add" / "-remove".
std::string scale_rebalance_name(const std::string& millrace, int64_t generation, ScaleAction action);

}  // namespace millrace::op::rebalance
