// A deterministic model of a consumer workload, run through KEDA's Kafka scaler
// rule (as ../shared/OPERATOR.md describes it: lag / lagThreshold with its
// integer-division cap, a 30 s poll, HPA's default behavior) and through the
// Millrace rule (rule.h) in each target mode, for the side-by-side table in
// docs/consumer-scaling.md. One-second steps; every scale step pauses the whole
// group for a rebalance (eager assignors stop all members). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operator/scaling/rule.h"

namespace millrace::op::scaling {

struct Workload {
  int32_t partitions = 12;
  int64_t burst = 60000;           // records already waiting at t = 0
  double produce_per_s = 200;      // then a steady rate
  double consume_per_replica = 100;  // what one replica processes per second
  int64_t rebalance_pause_s = 5;   // the group consumes nothing for this long after a scale step
  int64_t horizon_s = 1800;
  int32_t start_replicas = 1;
};

struct ModelResult {
  std::string name;
  int64_t poll_s = 0;
  int64_t drain_s = -1;        // first second the backlog is under one second of produce; -1: never
  int32_t steps = 0;           // scale steps (each a rebalance)
  int64_t replica_seconds = 0;
  int32_t max_replicas = 0;
  int64_t max_lag_after_drain = 0;  // the lag the rule lets build up again once drained
  std::vector<int32_t> replicas_by_minute;
};

// KEDA: desired = ceil(metric / lagThreshold), metric = total lag, clipped to
// partitions x threshold only when totalLag / threshold (integer division)
// exceeds the partitions (the off-by-one of KEDA issue 4483); polled every 30 s.
ModelResult run_keda(const Workload& w, int64_t lag_threshold, int32_t max_replicas = 100);

// Millrace: the rule of rule.h polled every `poll_s` seconds with `spec`.
ModelResult run_millrace(const Workload& w, const ScalerSpec& spec, const std::string& name, int64_t poll_s = 15);

// The table (Markdown) of the comparison docs/consumer-scaling.md shows.
std::string comparison_table(const Workload& w);

}  // namespace millrace::op::scaling
