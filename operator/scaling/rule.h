// The scaling rule of a ConsumerGroupScaler: from what a poll saw (lag, rates,
// the group's and the cluster's state) to the replicas a consumer workload
// should have. Pure and clock-free (every call takes now_ms); the reconciler
// (consumer_group_scaler_reconciler.h) does the I/O. One Autoscaler per scaler
// object keeps the short history HPA's behavior needs.
//
// A pass:
//   1. Hold: offsets unreadable, or the cluster restarting / moving partitions
//      -> keep the current replicas (never zero on an error) and say why.
//   2. Raw recommendation, the largest of the targets given:
//        lagPerReplica L          ceil(total lag / L)            (KEDA's lagThreshold)
//        lagSecondsPerReplica S   ceil(oldest unconsumed age / S) (the hottest partition's)
//        drainWithinSeconds T     ceil((lag / T + produce rate) / (0.9 x per-replica consume rate))
//                                 (a replica at most 90% busy; the rate is measured while
//                                 the group had a backlog and did not rebalance)
//      Not active (total lag <= activationLag) -> 0. Within 10% of the current
//      count -> the current count (HPA's tolerance: no rebalance for that).
//   3. Even distribution (optional): up to the next replica count dividing the
//      partitions evenly.
//   4. Bounds: minReplicas .. cap, cap = maxReplicas and, unless
//      allowIdleConsumers, the partitions the group can use (those with lag,
//      with limitToPartitionsWithLag). Exact: 5 partitions, L 5, lag 29 -> 5.
//   5. HPA behavior: scale-up takes the lowest recommendation of its
//      stabilisation window, scale-down the highest of its own; each direction's
//      policies (Pods / Percent per period, selectPolicy Max / Min / Disabled)
//      bound the change against the replicas at the period's start.
//   6. No scale-down while the group rebalances; to zero only after
//      cooldownSeconds without activity.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "operator/scaling/lag.h"

namespace millrace::op::scaling {

struct ScalingPolicy {
  enum class Type { kPods, kPercent };
  Type type = Type::kPods;
  int32_t value = 1;
  int64_t period_ms = 15000;
};

struct ScalingRules {  // HPA's behavior.scaleUp / behavior.scaleDown
  enum class Select { kMax, kMin, kDisabled };
  int64_t stabilization_window_ms = 0;
  std::vector<ScalingPolicy> policies;
  Select select = Select::kMax;
};

// HPA's defaults: up by the larger of 100% or 4 pods per 15 s, no window;
// down by up to 100% per 15 s after a 300 s window.
ScalingRules default_scale_up();
ScalingRules default_scale_down();

struct ScalerSpec {
  int32_t min_replicas = 1;
  std::optional<int32_t> max_replicas;
  bool allow_idle_consumers = false;
  bool limit_to_partitions_with_lag = false;
  bool even_distribution = false;
  std::optional<int64_t> lag_per_replica;
  std::optional<double> lag_seconds_per_replica;
  std::optional<double> drain_within_seconds;
  std::optional<double> consume_rate_per_replica;  // records/s, until one is measured
  int64_t activation_lag = 0;
  int64_t cooldown_ms = 300000;
  ScalingRules scale_up = default_scale_up();
  ScalingRules scale_down = default_scale_down();
};

// What a poll saw.
struct Observation {
  std::string error;        // offsets could not be read: hold
  std::string hold_reason;  // the cluster is restarting or moving partitions: hold
  bool rebalancing = false; // the group is not Stable: no scale-down
  LagSummary lag;
  int32_t partitions = 0;               // partitions of the topics the group consumes
  std::optional<double> produce_rate;   // records/s into those partitions
  std::optional<double> consume_rate;   // records/s committed by the whole group
  int64_t interval_ms = 0;              // since the previous poll (the rates' window)
};

struct Decision {
  int32_t desired = 0;
  int32_t recommended = 0;  // after targets and bounds, before windows and policies
  bool active = false;
  bool holding = false;
  std::string holding_reason;
  std::string limited_reason;  // why desired is not what the targets asked
  std::string why;             // the numbers behind the recommendation
  std::optional<double> per_replica_rate;  // records/s the rate mode used
};

// Records/s between two polls' offset sums; nullopt when time did not move or
// the sum went back (a topic re-created, a partition deleted).
std::optional<double> rate_between(int64_t before_sum, int64_t before_ms, int64_t after_sum, int64_t after_ms);

class Autoscaler {
 public:
  Decision decide(const ScalerSpec& spec, const Observation& obs, int32_t current, int64_t now_ms);
  // After the workload was scaled (its scale subresource written).
  void record_scale(int32_t from, int32_t to, int64_t now_ms);
  std::optional<int64_t> last_active_ms() const { return last_active_ms_; }
  void set_last_active_ms(std::optional<int64_t> ms) { last_active_ms_ = ms; }

 private:
  struct Event {
    int64_t at_ms;
    int32_t delta;
  };
  int32_t apply_behavior(const ScalerSpec& spec, int32_t current, int32_t recommended, int64_t now_ms,
                         std::string* limited);

  std::deque<std::pair<int64_t, int32_t>> recommendations_;  // (time, recommendation)
  std::deque<Event> events_;
  std::optional<int64_t> last_active_ms_;
  std::optional<double> per_replica_rate_;  // last measured
};

}  // namespace millrace::op::scaling
