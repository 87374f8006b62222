#include "operator/scaling/rule.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace millrace::op::scaling {
namespace {

constexpr int64_t kNoCap = std::numeric_limits<int32_t>::max();
constexpr double kSaturatedSeconds = 10;
// The rate mode sizes replicas to be at most this busy: at exactly 100% any
// pause (a rebalance, a slow batch) leaves a backlog that never drains.
constexpr double kTargetUtilisation = 0.9;
constexpr double kTolerance = 0.1;

std::string seconds(int64_t ms) { return std::to_string(ms / 1000) + "s"; }

std::string num(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

int64_t ceil_pos(double v) { return v <= 0 ? 0 : static_cast<int64_t>(std::min<double>(std::ceil(v - 1e-9), kNoCap)); }

}  // namespace

ScalingRules default_scale_up() {
  return {0,
          {{ScalingPolicy::Type::kPercent, 100, 15000}, {ScalingPolicy::Type::kPods, 4, 15000}},
          ScalingRules::Select::kMax};
}

ScalingRules default_scale_down() {
  return {300000, {{ScalingPolicy::Type::kPercent, 100, 15000}}, ScalingRules::Select::kMax};
}

std::optional<double> rate_between(int64_t before_sum, int64_t before_ms, int64_t after_sum, int64_t after_ms) {
  if (after_ms <= before_ms || after_sum < before_sum) return std::nullopt;
  return static_cast<double>(after_sum - before_sum) * 1000.0 / static_cast<double>(after_ms - before_ms);
}

Decision Autoscaler::decide(const ScalerSpec& spec, const Observation& obs, int32_t current, int64_t now_ms) {
  Decision d;
  d.desired = current;
  d.recommended = current;
  if (!obs.error.empty() || !obs.hold_reason.empty()) {
    // Never act on what could not be seen: an error is not "no lag".
    d.holding = true;
    d.holding_reason = obs.error.empty() ? obs.hold_reason : "offsets could not be read: " + obs.error;
    d.active = current > 0;
    d.why = "holding " + std::to_string(current) + " replicas";
    return d;
  }
  const auto& lag = obs.lag;
  // Active: lag above the activation threshold, or, in rate mode, records
  // arriving at all (a group that keeps up has no lag but still needs its
  // consumers; sizing from the produce rate is the point of that mode).
  d.active = lag.total > spec.activation_lag ||
             (spec.drain_within_seconds && obs.produce_rate && *obs.produce_rate > 0);
  if (d.active || !last_active_ms_) last_active_ms_ = now_ms;  // unknown: a whole cooldown from now
  // The group's measured rate is a capacity only when it had work left over:
  // a backlog of more than kSaturatedSeconds at that rate (an idle group's
  // rate is the produce rate, not what it could do).
  // An interval with a scale step in it measured a rebalance, not the replicas.
  bool scaled_within = std::any_of(events_.begin(), events_.end(),
                                   [&](const Event& e) { return e.at_ms >= now_ms - obs.interval_ms; });
  if (obs.consume_rate && current > 0 && *obs.consume_rate > 0 && !scaled_within &&
      static_cast<double>(lag.total) > *obs.consume_rate * kSaturatedSeconds)
    per_replica_rate_ = *obs.consume_rate / current;

  int64_t raw = 0;
  auto consider = [&](int64_t n, const std::string& text) {
    raw = std::max(raw, n);
    d.why += (d.why.empty() ? "" : "; ") + text + " -> " + std::to_string(n);
  };
  if (spec.lag_per_replica && *spec.lag_per_replica > 0)
    consider((lag.total + *spec.lag_per_replica - 1) / *spec.lag_per_replica,
             "lag " + std::to_string(lag.total) + " records / lagPerReplica " + std::to_string(*spec.lag_per_replica));
  if (spec.lag_seconds_per_replica && *spec.lag_seconds_per_replica > 0 && lag.max_lag_ms)
    consider(ceil_pos(static_cast<double>(*lag.max_lag_ms) / 1000.0 / *spec.lag_seconds_per_replica),
             "oldest unconsumed record " + num(static_cast<double>(*lag.max_lag_ms) / 1000.0) +
                 "s / lagSecondsPerReplica " + num(*spec.lag_seconds_per_replica));
  if (spec.drain_within_seconds && *spec.drain_within_seconds > 0) {
    auto per_replica = per_replica_rate_ ? per_replica_rate_ : spec.consume_rate_per_replica;
    if (per_replica && *per_replica > 0) {
      d.per_replica_rate = per_replica;
      double need = static_cast<double>(lag.total) / *spec.drain_within_seconds + obs.produce_rate.value_or(0);
      consider(ceil_pos(need / (*per_replica * kTargetUtilisation)),
               "(lag " + std::to_string(lag.total) + " / drainWithinSeconds " + num(*spec.drain_within_seconds) +
                   " + produce " + num(obs.produce_rate.value_or(0)) + "/s) / (consume " + num(*per_replica) +
                   "/s per replica at 90% busy)");
    } else if (d.active) {
      consider(std::max(current, 1), "no per-replica consume rate measured yet: keep at least one");
    }
  }
  if (!d.active) {
    raw = 0;
    d.why = "lag " + std::to_string(lag.total) + " <= activationLag " + std::to_string(spec.activation_lag) + ": idle";
  } else {
    raw = std::max<int64_t>(raw, 1);
    // HPA's tolerance: a recommendation within 10% of the current count is no
    // reason for a rebalance.
    if (current > 0 && std::abs(static_cast<double>(raw) / current - 1.0) <= kTolerance && raw != current) {
      d.why += "; within 10% of " + std::to_string(current) + ": kept";
      raw = current;
    }
  }

  // Bounds. A partition is read by one member of a group: more replicas than
  // the partitions the group can use only idle.
  int64_t cap = kNoCap;
  std::string cap_why;
  if (spec.max_replicas) {
    cap = *spec.max_replicas;
    cap_why = "maxReplicas";
  }
  int32_t usable = spec.limit_to_partitions_with_lag ? lag.partitions_with_lag : obs.partitions;
  if (!spec.allow_idle_consumers && usable < cap) {
    cap = usable;
    cap_why = spec.limit_to_partitions_with_lag ? "the partitions with lag" : "the partitions (a replica more would idle)";
  }
  if (spec.even_distribution && obs.partitions > 0 && raw > 0) {
    for (int64_t k = raw; k <= std::min<int64_t>(cap, obs.partitions); ++k)
      if (obs.partitions % k == 0) {
        if (k != raw) d.why += "; " + std::to_string(k) + " divides " + std::to_string(obs.partitions) + " partitions evenly";
        raw = k;
        break;
      }
  }
  int64_t bounded = raw;
  if (bounded > cap) {
    bounded = cap;
    d.limited_reason = "capped at " + std::to_string(cap) + ": " + cap_why;
  }
  if (bounded < spec.min_replicas) bounded = spec.min_replicas;
  if (bounded == 0 && current > 0 && now_ms - *last_active_ms_ < spec.cooldown_ms) {
    bounded = 1;
    d.limited_reason = "cooldown: to zero after " + seconds(spec.cooldown_ms) + " without activity (" +
                       seconds(now_ms - *last_active_ms_) + " so far)";
  }
  d.recommended = static_cast<int32_t>(bounded);

  int32_t desired = apply_behavior(spec, current, d.recommended, now_ms, &d.limited_reason);
  if (desired < current && obs.rebalancing) {
    desired = current;
    d.limited_reason = "the group is rebalancing: no scale-down until it is Stable";
  }
  if (current == 0 && d.active && desired < 1) desired = 1;  // activation is never held back
  d.desired = desired;
  return d;
}

int32_t Autoscaler::apply_behavior(const ScalerSpec& spec, int32_t current, int32_t rec, int64_t now_ms,
                                   std::string* limited) {
  recommendations_.emplace_back(now_ms, rec);
  int64_t keep = std::max(spec.scale_up.stabilization_window_ms, spec.scale_down.stabilization_window_ms);
  while (!recommendations_.empty() && recommendations_.front().first < now_ms - keep) recommendations_.pop_front();
  int64_t longest_period = 0;
  for (const auto* r : {&spec.scale_up, &spec.scale_down})
    for (const auto& p : r->policies) longest_period = std::max(longest_period, p.period_ms);
  while (!events_.empty() && events_.front().at_ms < now_ms - longest_period) events_.pop_front();

  int32_t out = rec;
  if (rec > current) {  // up: the lowest recommendation of the window, never below current
    int32_t lo = rec;
    for (const auto& [at, r] : recommendations_)
      if (at >= now_ms - spec.scale_up.stabilization_window_ms) lo = std::min(lo, r);
    out = std::max(current, lo);
    if (out != rec)
      *limited = "scale-up stabilisation: " + std::to_string(lo) + " was recommended within the last " +
                 seconds(spec.scale_up.stabilization_window_ms);
  } else if (rec < current) {  // down: the highest recommendation of the window, never above current
    int32_t hi = rec;
    for (const auto& [at, r] : recommendations_)
      if (at >= now_ms - spec.scale_down.stabilization_window_ms) hi = std::max(hi, r);
    out = std::min(current, hi);
    if (out != rec)
      *limited = "scale-down stabilisation: " + std::to_string(hi) + " was recommended within the last " +
                 seconds(spec.scale_down.stabilization_window_ms);
  }
  if (out == current) return out;

  const bool up = out > current;
  const auto& rules = up ? spec.scale_up : spec.scale_down;
  if (rules.select == ScalingRules::Select::kDisabled || rules.policies.empty()) {
    if (rules.select == ScalingRules::Select::kDisabled) {
      *limited = std::string(up ? "scale-up" : "scale-down") + " is disabled (selectPolicy: Disabled)";
      return current;
    }
    return out;
  }
  std::optional<int64_t> limit;
  for (const auto& p : rules.policies) {
    int64_t moved = 0;  // replicas added (up) or removed (down) within this policy's period
    for (const auto& e : events_)
      if (e.at_ms >= now_ms - p.period_ms && (up ? e.delta > 0 : e.delta < 0)) moved += up ? e.delta : -e.delta;
    int64_t start = up ? current - moved : current + moved;  // replicas at the period's start
    int64_t l;
    if (up)
      l = p.type == ScalingPolicy::Type::kPods
              ? start + p.value
              : ceil_pos(static_cast<double>(std::max<int64_t>(start, 1)) * (1.0 + p.value / 100.0));
    else
      l = p.type == ScalingPolicy::Type::kPods
              ? start - p.value
              : static_cast<int64_t>(std::floor(static_cast<double>(start) * (1.0 - p.value / 100.0)));
    // Max: the policy allowing the biggest change; Min: the smallest.
    bool wider = up ? (l > limit.value_or(l - 1)) : (l < limit.value_or(l + 1));
    if (!limit || (rules.select == ScalingRules::Select::kMax) == wider) limit = l;
  }
  if (up && out > *limit) {
    out = static_cast<int32_t>(std::max<int64_t>(*limit, current));
    *limited = "scale-up policy: at most " + std::to_string(out) + " replicas now";
  } else if (!up && out < *limit) {
    out = static_cast<int32_t>(std::min<int64_t>(*limit, current));
    *limited = "scale-down policy: at least " + std::to_string(out) + " replicas now";
  }
  return out;
}

void Autoscaler::record_scale(int32_t from, int32_t to, int64_t now_ms) {
  if (from != to) events_.push_back({now_ms, to - from});
}

}  // namespace millrace::op::scaling
