#include "operator/scaling/scaler_spec.h"

#include <cmath>

namespace millrace::op::scaling {
namespace {

// Reads spec.<key> into `out` when present; false (with `err` set) when it has
// the wrong type or is out of range.
bool read_int(const json& spec, const char* key, int64_t lo, int64_t& out, std::string& err) {
  if (!spec.contains(key)) return true;
  const auto& v = spec[key];
  if (!v.is_number_integer() || v.get<int64_t>() < lo) {
    err = std::string("spec.") + key + ": must be a whole number >= " + std::to_string(lo) + ", got " + v.dump();
    return false;
  }
  out = v.get<int64_t>();
  return true;
}

bool read_positive(const json& spec, const char* key, std::optional<double>& out, std::string& err) {
  if (!spec.contains(key)) return true;
  const auto& v = spec[key];
  if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>())) {
    err = std::string("spec.") + key + ": must be a number > 0, got " + v.dump();
    return false;
  }
  out = v.get<double>();
  return true;
}

bool read_rules(const json& behavior, const char* key, ScalingRules& rules, std::string& err) {
  if (!behavior.contains(key)) return true;
  const auto& r = behavior[key];
  std::string where = std::string("spec.behavior.") + key;
  if (!r.is_object()) {
    err = where + ": must be an object";
    return false;
  }
  int64_t window = rules.stabilization_window_ms / 1000;
  if (!read_int(r, "stabilizationWindowSeconds", 0, window, err)) {
    err = where + "." + err.substr(5);
    return false;
  }
  rules.stabilization_window_ms = window * 1000;
  auto select = r.value("selectPolicy", std::string("Max"));
  if (select == "Max") rules.select = ScalingRules::Select::kMax;
  else if (select == "Min") rules.select = ScalingRules::Select::kMin;
  else if (select == "Disabled") rules.select = ScalingRules::Select::kDisabled;
  else {
    err = where + ".selectPolicy: must be Max, Min or Disabled, got \"" + select + "\"";
    return false;
  }
  if (r.contains("policies")) {
    if (!r["policies"].is_array()) {
      err = where + ".policies: must be a list";
      return false;
    }
    rules.policies.clear();
    for (size_t i = 0; i < r["policies"].size(); ++i) {
      const auto& p = r["policies"][i];
      std::string at = where + ".policies[" + std::to_string(i) + "]";
      ScalingPolicy policy;
      auto type = p.is_object() ? p.value("type", std::string()) : std::string();
      if (type == "Pods") policy.type = ScalingPolicy::Type::kPods;
      else if (type == "Percent") policy.type = ScalingPolicy::Type::kPercent;
      else {
        err = at + ".type: must be Pods or Percent";
        return false;
      }
      int64_t value = 0, period = 0;
      if (!p.contains("value") || !read_int(p, "value", 1, value, err) || !p.contains("periodSeconds") ||
          !read_int(p, "periodSeconds", 1, period, err) || period > 1800) {
        err = at + ": value (>= 1) and periodSeconds (1..1800) are required";
        return false;
      }
      policy.value = static_cast<int32_t>(std::min<int64_t>(value, 1 << 30));
      policy.period_ms = period * 1000;
      rules.policies.push_back(policy);
    }
  }
  return true;
}

}  // namespace

ParsedScaler parse_scaler(const json& obj) {
  ParsedScaler p;
  auto& err = p.error;
  const auto annotations = obj.value("metadata", json::object()).value("annotations", json::object());
  p.paused = annotations.is_object() && annotations.value(kPausedAnnotation, "") == "true";
  const auto spec = obj.value("spec", json::object());
  if (!spec.is_object()) {
    err = "spec: must be an object";
    return p;
  }
  p.group_id = spec.value("groupId", "");
  if (p.group_id.empty()) {
    err = "spec.groupId: required";
    return p;
  }
  const auto cluster = spec.value("clusterRef", json::object());
  p.cluster_ref = cluster.is_object() ? cluster.value("name", "") : "";
  p.bootstrap_servers = spec.value("bootstrapServers", "");
  if (p.cluster_ref.empty() == p.bootstrap_servers.empty()) {
    err = "spec.clusterRef / spec.bootstrapServers: exactly one is required";
    return p;
  }
  for (const auto& t : spec.value("topics", json::array())) {
    if (!t.is_string() || t.get<std::string>().empty()) {
      err = "spec.topics: must be a list of topic names";
      return p;
    }
    p.topics.push_back(t.get<std::string>());
  }
  const auto target = spec.value("scaleTargetRef", json::object());
  if (!target.is_object() || target.value("kind", "").empty() || target.value("name", "").empty()) {
    err = "spec.scaleTargetRef: kind and name are required";
    return p;
  }
  p.target = {target.value("apiVersion", "apps/v1"), target.value("kind", ""), target.value("name", "")};
  auto& r = p.rule;
  int64_t min = 1, max = -1, activation = 0, cooldown = 300, poll = 15, per_replica = -1;
  if (!read_int(spec, "minReplicas", 0, min, err) || !read_int(spec, "maxReplicas", 1, max, err) ||
      !read_int(spec, "activationLag", 0, activation, err) || !read_int(spec, "cooldownSeconds", 0, cooldown, err) ||
      !read_int(spec, "pollIntervalSeconds", 1, poll, err) || !read_int(spec, "lagPerReplica", 1, per_replica, err))
    return p;
  if (max >= 0 && min > max) {
    err = "spec.minReplicas: " + std::to_string(min) + " is above spec.maxReplicas " + std::to_string(max);
    return p;
  }
  r.min_replicas = static_cast<int32_t>(std::min<int64_t>(min, 1 << 30));
  if (max >= 0) r.max_replicas = static_cast<int32_t>(std::min<int64_t>(max, 1 << 30));
  r.activation_lag = activation;
  r.cooldown_ms = cooldown * 1000;
  p.poll_interval_ms = poll * 1000;
  if (per_replica > 0) r.lag_per_replica = per_replica;
  if (!read_positive(spec, "lagSecondsPerReplica", r.lag_seconds_per_replica, err) ||
      !read_positive(spec, "drainWithinSeconds", r.drain_within_seconds, err) ||
      !read_positive(spec, "consumeRatePerReplica", r.consume_rate_per_replica, err))
    return p;
  if (!r.lag_per_replica && !r.lag_seconds_per_replica && !r.drain_within_seconds) {
    err = "spec.lagPerReplica / spec.lagSecondsPerReplica / spec.drainWithinSeconds: at least one target is required";
    return p;
  }
  r.allow_idle_consumers = spec.value("allowIdleConsumers", false);
  r.limit_to_partitions_with_lag = spec.value("limitToPartitionsWithLag", false);
  r.even_distribution = spec.value("evenDistribution", false);
  auto reset = spec.value("offsetResetPolicy", std::string("latest"));
  if (reset == "earliest") p.reset = ResetPolicy::kEarliest;
  else if (reset == "latest") p.reset = ResetPolicy::kLatest;
  else {
    err = "spec.offsetResetPolicy: must be earliest or latest, got \"" + reset + "\"";
    return p;
  }
  const auto behavior = spec.value("behavior", json::object());
  if (!read_rules(behavior, "scaleUp", r.scale_up, err) || !read_rules(behavior, "scaleDown", r.scale_down, err))
    return p;
  return p;
}

}  // namespace millrace::op::scaling
