#include "operator/scaler_reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "client/consumer.h"
#include "operator/conditions.h"

namespace millrace::op {
namespace {

using scaling::Decision;
using scaling::Observation;
using scaling::ParsedScaler;

constexpr size_t kMaxTimestampReads = 64;  // partitions whose record age one poll reads (the hottest)

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double round1(double v) { return std::round(v * 10.0) / 10.0; }

// The target's scale subresource path, through discovery: any kind that has one.
struct ScalePath {
  std::string path, plural, error;
};
ScalePath scale_path(KubeClient& client, const scaling::TargetRef& t, const std::string& ns) {
  std::string api = (t.api_version.find('/') == std::string::npos ? "/api/" : "/apis/") + t.api_version;
  auto r = client.get(api);
  if (r.not_found()) return {"", "", "spec.scaleTargetRef.apiVersion: " + t.api_version + " is not served"};
  if (!r.ok()) return {"", "", "discovery of " + t.api_version + ": " + r.describe()};
  std::string plural;
  bool scalable = false;
  for (const auto& res : r.body.value("resources", json::array()))
    if (res.value("kind", "") == t.kind && res.value("name", "").find('/') == std::string::npos)
      plural = res.value("name", "");
  for (const auto& res : r.body.value("resources", json::array()))
    if (!plural.empty() && res.value("name", "") == plural + "/scale") scalable = true;
  if (plural.empty()) return {"", "", "spec.scaleTargetRef.kind: " + t.api_version + " has no kind " + t.kind};
  if (!scalable) return {"", "", "spec.scaleTargetRef.kind: " + t.kind + " has no scale subresource"};
  return {api + "/namespaces/" + ns + "/" + plural + "/" + t.name + "/scale", plural, ""};
}

// The timestamp of the record at each position (one group-less fetch).
std::map<client::TopicPartition, int64_t> record_timestamps(const std::string& bootstrap,
                                                            const std::map<client::TopicPartition, int64_t>& at) {
  std::map<client::TopicPartition, int64_t> out;
  if (at.empty()) return out;
  client::ConsumerConfig cc;
  cc.client.bootstrap_servers = bootstrap;
  cc.client.client_id = "millrace-operator-lag";
  cc.enable_auto_commit = false;
  client::Consumer consumer(cc);
  std::vector<client::TopicPartition> tps;
  for (const auto& [tp, _] : at) tps.push_back(tp);
  if (!consumer.assign(tps).ok()) return out;
  for (const auto& [tp, offset] : at) consumer.seek(tp, offset);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (out.size() < at.size() && std::chrono::steady_clock::now() < deadline) {
    auto records = consumer.poll(std::chrono::milliseconds(200));
    if (!records.ok()) break;
    for (const auto& rec : *records) out.emplace(client::TopicPartition{rec.topic, rec.partition}, rec.timestamp_ms);
  }
  consumer.close(std::chrono::milliseconds(1000));
  return out;
}

}  // namespace

Observation ScalerReconciler::observe(const json& scaler, const ParsedScaler& spec, Memory& memory, int64_t now_ms,
                                      std::string* group_state) {
  Observation obs;
  const auto ns = scaler["metadata"].value("namespace", "");
  std::string bootstrap = spec.bootstrap_servers;
  if (!spec.cluster_ref.empty()) {
    auto mr = millraces_.get(ns, spec.cluster_ref);
    if (!mr) {
      obs.error = "Millrace " + spec.cluster_ref + " (spec.clusterRef) not found";
      return obs;
    }
    const auto status = mr->value("status", json::object());
    auto ready = find_condition(status.is_object() ? status.value("conditions", json::array()) : json::array(), "Ready");
    if (ready.is_null() || ready.value("status", "") != "True") {
      obs.hold_reason = "Millrace " + spec.cluster_ref + " is not Ready" +
                        (ready.is_null() ? std::string() : ": " + ready.value("message", ""));
      return obs;
    }
    bootstrap = kafka_.bootstrap(*mr);
    if (bootstrap.empty()) {
      obs.hold_reason = "Millrace " + spec.cluster_ref + " has no ready broker";
      return obs;
    }
  }
  auto* admin = kafka_.admin_for(bootstrap);
  auto group = admin->describe_group(spec.group_id);
  if (!group.ok()) {
    obs.error = "DescribeGroups " + spec.group_id + ": " + group.error().to_string();
    return obs;
  }
  *group_state = group->state;
  obs.rebalancing = group->state == "PreparingRebalance" || group->state == "CompletingRebalance";
  auto committed = admin->group_offsets(spec.group_id);
  if (!committed.ok()) {
    obs.error = "OffsetFetch " + spec.group_id + ": " + committed.error().to_string();
    return obs;
  }
  std::set<std::string> topics(spec.topics.begin(), spec.topics.end());
  if (topics.empty()) {
    for (const auto& m : group->members)
      for (const auto& tp : m.assignment) topics.insert(tp.topic);
    for (const auto& [tp, _] : *committed) topics.insert(tp.topic);
  }
  std::vector<client::TopicPartition> tps;
  for (const auto& t : topics) {
    auto d = admin->describe_topic(t);
    if (!d.ok()) {
      obs.error = "Metadata for topic " + t + ": " + d.error().to_string();
      return obs;
    }
    for (const auto& p : d->partitions) tps.push_back({t, p.partition});
  }
  obs.partitions = static_cast<int32_t>(tps.size());
  std::vector<scaling::PartitionOffsets> parts;
  if (!tps.empty()) {
    auto earliest = admin->list_offsets(tps, client::OffsetSpec::kEarliest);
    // read_committed: the last stable offset, so open transactions and their
    // markers are not lag a consumer could ever take away (KEDA 5675).
    auto latest = admin->list_offsets(tps, client::OffsetSpec::kLatest, 1);
    if (!earliest.ok() || !latest.ok()) {
      obs.error = "ListOffsets: " + (earliest.ok() ? latest.error() : earliest.error()).to_string();
      return obs;
    }
    for (const auto& tp : tps) {
      scaling::PartitionOffsets p{tp.topic, tp.partition, 0, 0, std::nullopt, std::nullopt};
      if (auto it = earliest->find(tp); it != earliest->end()) p.log_start = it->second;
      if (auto it = latest->find(tp); it != latest->end()) p.end = it->second;
      if (auto it = committed->find(tp); it != committed->end() && it->second >= 0) p.committed = it->second;
      parts.push_back(p);
    }
    // Lag in time: the age of the record each lagging partition's consumer reads next.
    std::vector<std::pair<int64_t, size_t>> lagging;
    for (size_t i = 0; i < parts.size(); ++i) {
      auto pos = scaling::consumer_position(parts[i], spec.reset);
      if (parts[i].end > pos) lagging.emplace_back(parts[i].end - pos, i);
    }
    std::sort(lagging.rbegin(), lagging.rend());
    std::map<client::TopicPartition, int64_t> at;
    for (size_t k = 0; k < lagging.size() && k < kMaxTimestampReads; ++k) {
      const auto& p = parts[lagging[k].second];
      at[{p.topic, p.partition}] = scaling::consumer_position(p, spec.reset);
    }
    auto stamps = record_timestamps(bootstrap, at);
    for (auto& p : parts)
      if (auto it = stamps.find({p.topic, p.partition}); it != stamps.end()) p.next_record_timestamp_ms = it->second;
  }
  obs.lag = scaling::summarize(parts, spec.reset, now_ms);
  int64_t end_sum = 0, position_sum = 0;
  for (const auto& p : parts) {
    end_sum += p.end;
    position_sum += scaling::consumer_position(p, spec.reset);
  }
  if (memory.end_sum >= 0) {
    obs.interval_ms = now_ms - memory.at_ms;
    obs.produce_rate = scaling::rate_between(memory.end_sum, memory.at_ms, end_sum, now_ms);
    obs.consume_rate = scaling::rate_between(memory.committed_sum, memory.at_ms, position_sum, now_ms);
  }
  memory.at_ms = now_ms;
  memory.end_sum = end_sum;
  memory.committed_sum = position_sum;
  return obs;
}

ReconcileResult ScalerReconciler::reconcile(const std::string& ns, const std::string& name) {
  const std::string key = ns + "/" + name;
  auto obj = scalers_.get(ns, name);
  if (!obj) {
    std::lock_guard lk(mu_);
    if (auto it = memory_.find(key); it != memory_.end()) {
      metrics_.forget_scaler(ns, name, it->second.group);
      memory_.erase(it);
    }
    return ReconcileResult::done();
  }
  if (!(*obj)["metadata"].value("deletionTimestamp", "").empty()) return ReconcileResult::done();
  const int64_t generation = (*obj)["metadata"].value("generation", int64_t{0});
  const auto old = obj->value("status", json::object());
  auto conditions = old.value("conditions", json::array());
  const auto now = now_rfc3339();
  json status = {{"observedGeneration", generation}};
  auto spec = scaling::parse_scaler(*obj);
  auto refuse = [&](const std::string& reason, const std::string& message) {
    status["conditions"] = set_condition(conditions, {"Ready", "False", reason, message, generation}, now);
    for (const char* k : {"currentReplicas", "desiredReplicas", "lastScaleTime"})
      if (old.contains(k)) status[k] = old[k];
    auto err = write_status(*obj, status);
    return err.empty() ? ReconcileResult::after(std::chrono::seconds(30)) : ReconcileResult::failed(err);
  };
  if (!spec.error.empty()) return refuse("InvalidSpec", spec.error);
  auto target = scale_path(client_, spec.target, ns);
  if (!target.error.empty()) return refuse("TargetNotFound", target.error);
  auto scale = client_.get(target.path);
  if (!scale.ok())
    return refuse("TargetNotFound", "spec.scaleTargetRef: " + spec.target.kind + " " + spec.target.name + ": " +
                                        scale.describe());
  int32_t current = 0;
  if (scale.body.is_object() && scale.body.contains("spec") && scale.body["spec"].is_object() &&
      scale.body["spec"].contains("replicas") && scale.body["spec"]["replicas"].is_number_integer())
    current = scale.body["spec"]["replicas"].get<int32_t>();

  Memory* memory;
  {
    std::lock_guard lk(mu_);
    memory = &memory_[key];
  }
  const int64_t now_ms = wall_ms();
  std::string group_state;
  Decision d;
  if (spec.paused) {
    d.desired = d.recommended = current;
    d.holding = true;
    d.holding_reason = std::string("paused by annotation ") + scaling::kPausedAnnotation;
  } else {
    auto obs = observe(*obj, spec, *memory, now_ms, &group_state);
    d = memory->autoscaler.decide(spec.rule, obs, current, now_ms);
    status["totalLag"] = obs.lag.total;
    if (obs.lag.max_lag_ms) status["lagSeconds"] = *obs.lag.max_lag_ms / 1000;
    if (obs.lag.hottest && obs.lag.hottest->lag > 0)
      status["hottestPartition"] = {{"topic", obs.lag.hottest->topic},
                                    {"partition", obs.lag.hottest->partition},
                                    {"lag", obs.lag.hottest->lag}};
    if (obs.produce_rate) status["produceRate"] = round1(*obs.produce_rate);
    if (obs.consume_rate) status["consumeRate"] = round1(*obs.consume_rate);
    if (!group_state.empty()) status["groupState"] = group_state;
    if (!obs.error.empty()) spdlog::warn("scaler {}: holding: {}", key, obs.error);
    if (obs.error.empty() && obs.hold_reason.empty()) {
      if (!memory->group.empty() && memory->group != spec.group_id) metrics_.forget_scaler(ns, name, memory->group);
      memory->group = spec.group_id;
      metrics_.scaler(ns, name, spec.group_id, obs.lag.total,
                      static_cast<double>(obs.lag.max_lag_ms.value_or(0)) / 1000.0, d.desired);
    }
  }
  std::string last_scale = old.value("lastScaleTime", "");
  std::string ready_reason = "Scaling", ready_message = "scaling " + spec.target.kind + " " + spec.target.name +
                                                          " on consumer group " + spec.group_id;
  std::string ready_status = "True";
  if (!spec.paused && d.desired != current) {
    auto r = client_.merge_patch(target.path, {{"spec", {{"replicas", d.desired}}}}, target.plural);
    if (r.ok()) {
      memory->autoscaler.record_scale(current, d.desired, now_ms);
      std::string msg = "Scaled " + spec.target.kind + " " + spec.target.name + " from " + std::to_string(current) +
                        " to " + std::to_string(d.desired) + ": " + d.why +
                        (d.limited_reason.empty() ? "" : " (" + d.limited_reason + ")");
      events_.record(*obj, "Normal", "Scaled", msg);
      spdlog::info("scaler {}: {}", key, msg);
      last_scale = now;
      current = d.desired;
    } else {
      ready_status = "False";
      ready_reason = "ScaleFailed";
      ready_message = "writing the scale of " + spec.target.kind + " " + spec.target.name + ": " + r.describe();
    }
  }
  status["currentReplicas"] = current;
  status["desiredReplicas"] = d.desired;
  if (!last_scale.empty()) status["lastScaleTime"] = last_scale;
  if (auto active = memory->autoscaler.last_active_ms(); active && !spec.paused)
    status["lastActiveTime"] = rfc3339(static_cast<std::time_t>(*active / 1000));
  conditions = set_condition(conditions, {"Ready", ready_status, ready_reason, ready_message, generation}, now);
  conditions = set_condition(conditions,
                             {"Active", d.active ? "True" : "False", d.active ? "LagAboveActivation" : "Idle",
                              d.why.empty() ? "-" : d.why, generation},
                             now);
  conditions = set_condition(conditions,
                             {"ScalingLimited", d.limited_reason.empty() ? "False" : "True",
                              d.limited_reason.empty() ? "DesiredWithinRange" : "Limited",
                              d.limited_reason.empty() ? "the rule's recommendation is applied as is" : d.limited_reason,
                              generation},
                             now);
  std::string hold_reason = spec.paused                               ? "Paused"
                            : d.holding_reason.rfind("offsets", 0) == 0 ? "OffsetsUnavailable"
                                                                        : "ClusterNotReady";
  conditions = set_condition(conditions,
                             {"Holding", d.holding ? "True" : "False", d.holding ? hold_reason : "NotHolding",
                              d.holding ? d.holding_reason : "the last poll saw the group", generation},
                             now);
  status["conditions"] = conditions;
  auto err = write_status(*obj, status);
  if (!err.empty()) return ReconcileResult::failed(err);
  return ReconcileResult::after(std::chrono::milliseconds(spec.poll_interval_ms));
}

std::string ScalerReconciler::write_status(const json& scaler, const json& status) {
  const auto old = scaler.value("status", json::object());
  if (status_equal(old, status)) return "";
  json patch = status;  // a merge patch: fields no longer known are removed explicitly
  for (const auto& [k, _] : old.items())
    if (!status.contains(k)) patch[k] = nullptr;
  const auto& md = scaler["metadata"];
  auto r = client_.merge_patch(res::kConsumerGroupScaler.object(md.value("namespace", ""), md.value("name", "")) +
                                   "/status",
                               {{"status", patch}}, res::kConsumerGroupScaler.plural);
  if (!r.ok() && !r.not_found()) return "status: " + r.describe();
  if (r.ok() && r.body.is_object()) scalers_.upsert(r.body);
  return "";
}

}  // namespace millrace::op
