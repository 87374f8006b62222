#include "operator/scaling/model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

namespace millrace::op::scaling {
namespace {

// Runs the workload; `decide(t, lag, current)` is asked at each poll and
// returns the replicas the workload should have from then on.
ModelResult simulate(const Workload& w, const std::string& name, int64_t poll_s,
                     const std::function<int32_t(int64_t, const Observation&, int32_t)>& decide) {
  ModelResult r;
  r.name = name;
  r.poll_s = poll_s;
  double lag = static_cast<double>(w.burst);
  int32_t replicas = w.start_replicas;
  int64_t paused_until = 0;
  int64_t produced_prev = 0, consumed_prev = 0, produced = 0, consumed = 0;
  for (int64_t t = 0; t < w.horizon_s; ++t) {
    if (t % poll_s == 0) {
      Observation o;
      o.partitions = w.partitions;
      // The lag spread evenly over the partitions (what a keyed producer gives).
      o.lag.total = static_cast<int64_t>(lag);
      o.lag.partitions_with_lag = lag >= 1 ? w.partitions : 0;
      if (lag >= 1)
        o.lag.max_lag_ms = static_cast<int64_t>(1000.0 * lag / std::max(1.0, w.produce_per_s));  // age, roughly
      o.interval_ms = poll_s * 1000;
      if (t > 0) {
        o.produce_rate = static_cast<double>(produced - produced_prev) / static_cast<double>(poll_s);
        o.consume_rate = static_cast<double>(consumed - consumed_prev) / static_cast<double>(poll_s);
      }
      produced_prev = produced;
      consumed_prev = consumed;
      int32_t next = decide(t, o, replicas);
      if (next != replicas) {
        ++r.steps;
        replicas = next;
        paused_until = t + w.rebalance_pause_s;
      }
    }
    r.max_replicas = std::max(r.max_replicas, replicas);
    r.replica_seconds += replicas;
    if (t % 60 == 0) r.replicas_by_minute.push_back(replicas);
    lag += w.produce_per_s;
    produced += static_cast<int64_t>(w.produce_per_s);
    if (t >= paused_until) {
      double can = std::min(replicas, w.partitions) * w.consume_per_replica;
      double took = std::min(lag, can);
      lag -= took;
      consumed += static_cast<int64_t>(took);
    }
    if (r.drain_s < 0 && lag <= w.produce_per_s) r.drain_s = t;
    if (r.drain_s >= 0) r.max_lag_after_drain = std::max(r.max_lag_after_drain, static_cast<int64_t>(lag));
  }
  return r;
}

}  // namespace

ModelResult run_keda(const Workload& w, int64_t threshold, int32_t max_replicas) {
  // KEDA feeds the HPA an External metric; the HPA applies its default
  // behavior and 10% tolerance. 0 <-> 1 is KEDA's own (not modelled: min 1).
  Autoscaler hpa;
  ScalerSpec hpa_spec;  // used only for its behavior (windows, policies)
  hpa_spec.allow_idle_consumers = true;
  hpa_spec.max_replicas = max_replicas;
  hpa_spec.min_replicas = 1;
  return simulate(w, "KEDA (lagThreshold " + std::to_string(threshold) + ")", 30,
                  [&](int64_t t, const Observation& o, int32_t current) {
                    int64_t metric = o.lag.total;
                    if (metric / threshold > w.partitions) metric = w.partitions * threshold;  // issue 4483
                    int64_t desired = (metric + threshold - 1) / threshold;
                    double ratio = current > 0 ? static_cast<double>(desired) / current : 2;
                    if (std::abs(ratio - 1.0) <= 0.1) desired = current;  // HPA tolerance
                    desired = std::clamp<int64_t>(desired, 1, max_replicas);
                    // The HPA's windows and policies, through the same code as Millrace's.
                    Observation as_is;
                    as_is.partitions = static_cast<int32_t>(desired);
                    ScalerSpec s = hpa_spec;
                    s.lag_per_replica = 1;
                    as_is.lag.total = desired;
                    as_is.lag.partitions_with_lag = static_cast<int32_t>(desired);
                    auto d = hpa.decide(s, as_is, current, t * 1000);
                    hpa.record_scale(current, d.desired, t * 1000);
                    return d.desired;
                  });
}

ModelResult run_millrace(const Workload& w, const ScalerSpec& spec, const std::string& name, int64_t poll_s) {
  Autoscaler a;
  return simulate(w, name, poll_s, [&](int64_t t, const Observation& o, int32_t current) {
    auto d = a.decide(spec, o, current, t * 1000);
    a.record_scale(current, d.desired, t * 1000);
    return d.desired;
  });
}

std::string comparison_table(const Workload& w) {
  std::vector<ModelResult> rows;
  rows.push_back(run_keda(w, 1000));
  ScalerSpec records;
  records.lag_per_replica = 1000;
  rows.push_back(run_millrace(w, records, "Millrace lagPerReplica 1000"));
  ScalerSpec seconds;
  seconds.lag_seconds_per_replica = 30;
  rows.push_back(run_millrace(w, seconds, "Millrace lagSecondsPerReplica 30"));
  ScalerSpec rate;
  rate.drain_within_seconds = 60;
  rate.consume_rate_per_replica = w.consume_per_replica;
  rows.push_back(run_millrace(w, rate, "Millrace drainWithinSeconds 60"));
  std::string out =
      "| rule | poll | backlog drained after | scale steps (rebalances) | replica-seconds | max replicas | lag regrown "
      "after drain |\n"
      "|---|---|---|---|---|---|---|\n";
  char line[256];
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "| %s | %lld s | %s | %d | %lld | %d | %lld |\n", r.name.c_str(),
                  static_cast<long long>(r.poll_s),
                  r.drain_s < 0 ? "never" : (std::to_string(r.drain_s) + " s").c_str(), r.steps,
                  static_cast<long long>(r.replica_seconds), r.max_replicas,
                  static_cast<long long>(r.max_lag_after_drain));
    out += line;
  }
  return out;
}

}  // namespace millrace::op::scaling
