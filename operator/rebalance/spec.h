// A `Rebalance` object (millrace.io/v1alpha1) as the state machine sees it: the
// spec parsed and checked (every problem names its field, e.g.
// "spec.brokers: required with mode add-brokers"), and the user's request read
// from the annotations. The CRD (charts/millrace/crds/millrace.io_rebalances.yaml)
// refuses most bad specs at the API server; this is the check for what a schema
// cannot say and for objects stored under an older CRD. Pure.
//
// Annotations, after Strimzi's strimzi.io/rebalance:
//   millrace.io/rebalance: approve | stop | refresh
//   millrace.io/rebalance-approve: "true"      (the same as approve)
// Both are removed once acted on.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "operator/rebalance/machine.h"

namespace millrace::op::rebalance {

using json = nlohmann::json;

inline constexpr const char* kRebalanceAnnotation = "millrace.io/rebalance";
inline constexpr const char* kApproveAnnotation = "millrace.io/rebalance-approve";

struct ParsedSpec {
  std::string cluster;  // the Millrace's name, same namespace
  Spec spec;            // throttle_bytes_per_s is the brokers' (filled by the reconciler)
  std::string error;    // "" when good; else the first problem, naming the field
};

// REQUIRES: `object` is a Rebalance (its spec may be missing or malformed).
ParsedSpec parse_spec(const json& object);

// The request the annotations make: "approve", "stop", "refresh", "" (none), or
// the unknown value as written (the machine reports it).
std::string requested_action(const json& object);

// mode as the spec spells it ("full", "add-brokers", "remove-brokers").
const char* mode_name(planner::Mode m);

}  // namespace millrace::op::rebalance
