// A ConsumerGroupScaler object (millrace.io/v1alpha1, JSON as the API server
// stores it) read into the scaling rule's terms. The CRD validates the same
// things (schema and CEL rules); this check covers objects stored before a rule
// existed and names the field, so a bad spec is a condition, never a crash.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "operator/scaling/rule.h"

namespace millrace::op::scaling {

using json = nlohmann::json;

inline constexpr const char* kPausedAnnotation = "millrace.io/paused";

struct TargetRef {
  std::string api_version = "apps/v1";
  std::string kind;
  std::string name;
};

struct ParsedScaler {
  ScalerSpec rule;
  std::string group_id;
  std::string cluster_ref;        // a Millrace in the scaler's namespace, or
  std::string bootstrap_servers;  // any Kafka-compatible cluster
  std::vector<std::string> topics;  // empty: the topics the group consumes
  TargetRef target;
  ResetPolicy reset = ResetPolicy::kLatest;
  int64_t poll_interval_ms = 15000;
  bool paused = false;
  std::string error;  // non-empty: names the field and what is wrong
};

ParsedScaler parse_scaler(const json& obj);

}  // namespace millrace::op::scaling
