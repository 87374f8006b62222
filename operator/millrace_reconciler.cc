#include "operator/millrace_reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "operator/broker_config_check.h"
#include "operator/conditions.h"
#include "operator/rebalance/on_scale.h"
#include "operator/rolling/roll.h"

namespace millrace::op {

namespace {
constexpr const char* kScaleDownBlocked = "ScaleDownBlocked";
constexpr const char* kServiceMonitorCondition = "ServiceMonitor";
constexpr const char* kCrdNotInstalled = "CRDNotInstalled";
constexpr const char* kClusteredCondition = "Clustered";
constexpr const char* kRollingRestartCondition = "RollingRestart";

std::string pod_name(const MillraceSpec& spec, int ordinal) { return spec.name + "-" + std::to_string(ordinal); }

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string out;
  for (auto id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out;
}

// True when `obj` names the Millrace of that uid as its controller.
bool controlled_by(const json& obj, const std::string& uid) {
  const auto refs = obj["metadata"].value("ownerReferences", json::array());
  return std::any_of(refs.begin(), refs.end(),
                     [&](const json& r) { return r.value("uid", "") == uid && r.value("controller", false); });
}
}  // namespace

ReconcileResult MillraceReconciler::reconcile(const std::string& ns, const std::string& name) {
  auto obj = caches_.millraces.get(ns, name);
  if (!obj) return ReconcileResult::done();  // deleted: owner references let the GC remove the rest
  if (!(*obj)["metadata"].value("deletionTimestamp", "").empty()) return ReconcileResult::done();

  auto spec = parse_millrace(*obj);
  int live = live_replicas(spec);
  // Node ids first: every pod the StatefulSet has or is about to have gets its
  // recorded id before the StatefulSet is written (node_ids.h).
  auto ids_name = node_ids_config_map_name(spec);
  auto recorded = caches_.config_maps.get(ns, ids_name);
  std::string fetch_error;
  if (!recorded) {
    // The cache holds only labelled ConfigMaps: before allocating from nothing,
    // ask the API server, so a record that lost its labels (or was written by
    // hand) is adopted, never overwritten.
    auto got = client_.get(res::kConfigMap.object(ns, ids_name));
    if (got.ok()) recorded = got.body;
    else if (!got.not_found()) fetch_error = "ConfigMap " + ids_name + ": " + got.describe();
  }
  auto read = read_node_ids(recorded ? &*recorded : nullptr, ids_name);
  if (!fetch_error.empty()) read.error = fetch_error;
  std::vector<std::string> pods;
  for (int ordinal = 0; ordinal < std::max(spec.brokers, live); ++ordinal) pods.push_back(pod_name(spec, ordinal));
  auto alloc = read.error.empty() ? allocate_node_ids(read.ids, pods) : NodeIdsAllocation{read.ids, read.error};
  // The controller quorum: chosen once, with the first pods (node_ids.h).
  if (alloc.error.empty()) alloc.ids = choose_voters(alloc.ids, pods, spec.brokers);
  if (!alloc.error.empty()) {
    // An id record that cannot be trusted changes nothing: a wrong id would make
    // a broker someone else. Say why on the resource, look again on each change.
    bool ready = false;
    ScaleDownPlan hold{std::max(live, 0), std::nullopt};
    auto status = compute_status(*obj, spec, hold, {}, alloc.ids, {}, {}, "node ids: " + alloc.error, &ready);
    auto status_error = write_status(*obj, status);
    return ReconcileResult::failed(status_error.empty() ? alloc.error : status_error);
  }
  // A config the brokers would refuse is never applied: it would stop each
  // broker a rolling restart restarts. What runs keeps running as it is.
  if (auto problems = check_broker_config(spec.config); !problems.empty()) {
    std::string why;
    for (const auto& p : problems) {
      if (!why.empty()) why += "; ";
      why += p;
    }
    const bool first = find_condition((*obj).value("status", json::object()).value("conditions", json::array()),
                                      "Ready")
                           .value("message", "") != why;
    if (first) events_.record(*obj, "Warning", "InvalidConfig", why + " (nothing applied)");
    bool ready = false;
    ScaleDownPlan hold{std::max(live, 0), std::nullopt};
    // What the status records of scaling and rolling stays as it stood.
    const auto recorded_status = (*obj).value("status", json::object());
    ScaleOutcome scale_held;
    for (const auto& v : recorded_status.value("balancedBrokers", json::array()))
      if (v.is_number_integer()) scale_held.balanced.push_back(v.get<int32_t>());
    scale_held.rebalance = recorded_status.value("scaleRebalance", "");
    RollOutcome roll_held;
    roll_held.status = recorded_status.value("roll", json());
    auto status = compute_status(*obj, spec, hold, {}, alloc.ids, scale_held, roll_held, why, &ready);
    auto status_error = write_status(*obj, status);
    return ReconcileResult::failed(status_error.empty() ? why : status_error);
  }
  // Never fewer pods than hold the voters: a static quorum would lose one for good.
  int wanted = brokers_to_run(spec.brokers, pods_holding_voters(alloc.ids, spec.name));
  auto plan = plan_replicas(*obj, spec, wanted, live, alloc.ids);
  auto scale = scale_rebalance(*obj, spec, alloc.ids, wanted, live, plan);
  if (plan.blocker && !scale.drain.empty()) plan.blocker->drain = scale.drain;
  auto applied = spec;
  applied.brokers = plan.replicas;  // held above `wanted` while a broker to remove is not empty
  auto monitor = service_monitor_state(spec);
  auto error = ensure_objects(applied, *obj, monitor, alloc.ids);
  if (error.empty() && !monitor.error.empty()) error = "ServiceMonitor: " + monitor.error;
  if (error.empty() && !monitor.wanted) error = prune_service_monitor(spec, *obj);
  bool ready = false;
  if (error.empty() && !scale.error.empty()) error = scale.error;
  RollOutcome roll;
  if (error.empty()) roll = rolling_restart(*obj, spec, alloc.ids);
  auto status = compute_status(*obj, spec, plan, monitor, alloc.ids, scale, roll, error, &ready);
  auto status_error = write_status(*obj, status);
  if (!error.empty()) return ReconcileResult::failed(error);
  if (!status_error.empty()) return ReconcileResult::failed(status_error);
  // A restarted broker catching up wakes no informer: poll while rolling.
  if (roll.waiting) return ReconcileResult::after(std::chrono::seconds(2));
  // Emptying a broker happens in Kafka, which wakes no informer: poll while blocked.
  if (plan.blocker) return ReconcileResult::after(std::chrono::seconds(10));
  // New brokers become Ready (the pod informer wakes us) and then are balanced in.
  if (scale.waiting) return ReconcileResult::after(std::chrono::seconds(10));
  // A CRD being installed wakes no informer either: look for it again soon.
  if (monitor.wanted && !monitor.served) return ReconcileResult::after(kServiceMonitorRecheck);
  // Pods and StatefulSets wake us through their informers; this is a safety net.
  return ReconcileResult::after(std::chrono::seconds(ready ? 300 : 15));
}

int MillraceReconciler::live_replicas(const MillraceSpec& spec) {
  auto sts = caches_.stateful_sets.get(spec.namespace_, spec.name);
  if (!sts) return -1;
  auto r = (*sts)["spec"].value("replicas", json(1));
  return r.is_number_integer() ? std::max(0, r.get<int>()) : 1;
}

ScaleDownPlan MillraceReconciler::plan_replicas(const json& owner, const MillraceSpec& spec, int wanted, int live,
                                                const NodeIds& ids) {
  if (live < 0) return {wanted, std::nullopt};
  return plan_scale_down(live, wanted, [&](int ordinal) {
    auto pod = pod_name(spec, ordinal);
    auto id = ids.of(pod);
    if (!id) return BrokerLoad{-1, pod, 0, "no node id is recorded for it in ConfigMap " + node_ids_config_map_name(spec)};
    if (calls_.broker_load) return calls_.broker_load(owner, pod, *id);
    return BrokerLoad{*id, pod, 0, "the operator was built without a Kafka client"};
  });
}

ScaleOutcome MillraceReconciler::scale_rebalance(const json& owner, const MillraceSpec& spec, const NodeIds& ids,
                                                 int wanted, int live, const ScaleDownPlan& plan) {
  using namespace rebalance;
  ScaleOutcome out;
  ScaleFacts f;
  f.kept_ready = true;
  for (int ordinal = 0; ordinal < wanted; ++ordinal) {
    auto pod = pod_name(spec, ordinal);
    if (auto id = ids.of(pod)) f.kept.push_back(*id);
    auto p = caches_.pods.get(spec.namespace_, pod);
    auto cond = p ? find_condition((*p)["status"].value("conditions", json::array()), "Ready") : json();
    if (cond.is_null() || cond.value("status", "") != "True") f.kept_ready = false;
  }
  for (int ordinal = wanted; ordinal < live; ++ordinal)
    if (auto id = ids.of(pod_name(spec, ordinal))) f.departing.push_back(*id);
  f.departing_hold_data = plan.blocker.has_value();
  const auto status = owner.value("status", json::object());
  if (status.contains("balancedBrokers") && status["balancedBrokers"].is_array()) {
    std::vector<int32_t> b;
    for (const auto& v : status["balancedBrokers"])
      if (v.is_number_integer()) b.push_back(v.get<int32_t>());
    f.balanced = b;
  }
  auto d = decide_on_scale(f);
  out.balanced = d.balanced;
  out.rebalance = status.value("scaleRebalance", "");
  out.waiting = !f.kept_ready;
  if (!spec.rebalance_on_scale) {
    out.balanced = f.kept;
    return out;
  }
  if (d.action == ScaleAction::kNone) {
    if (f.departing_hold_data) out.waiting = true;
    return out;
  }
  const int64_t generation = owner["metadata"].value("generation", int64_t{0});
  auto name = scale_rebalance_name(spec.name, generation, d.action);
  out.rebalance = name;
  const bool remove = d.action == ScaleAction::kRemoveBrokers;
  auto path = res::kRebalance.object(spec.namespace_, name);
  auto got = client_.get(path);
  if (got.not_found()) {
    json rb = {{"apiVersion", res::kRebalance.api_version()},
               {"kind", "Rebalance"},
               {"metadata",
                {{"name", name},
                 {"namespace", spec.namespace_},
                 {"labels", {{kInstanceLabel, spec.name}, {kManagedByLabel, "millrace-operator"},
                             {"millrace.io/scale", remove ? "remove" : "add"}}},
                 {"ownerReferences", json::array({owner_reference(spec)})}}},
               {"spec",
                {{"cluster", spec.name},
                 {"mode", remove ? "remove-brokers" : "add-brokers"},
                 {"brokers", d.brokers},
                 {"autoApprove", spec.rebalance_auto_approve}}}};
    auto created = client_.create(res::kRebalance.collection(spec.namespace_), rb, res::kRebalance.plural);
    if (!created.ok() && !created.conflict()) {
      out.error = "Rebalance " + name + ": " + created.describe() +
                  (created.not_found() ? " (is the Rebalance CRD installed? helm does not upgrade CRDs)" : "");
      out.balanced = f.balanced.value_or(f.kept);  // not recorded: tried again next pass
      return out;
    }
    if (created.ok()) {
      spdlog::info("millrace {}/{}: created Rebalance {} ({} brokers {})", spec.namespace_, spec.name, name,
                   remove ? "remove" : "add", join_ids(d.brokers));
      events_.record(owner, "Normal", remove ? "DrainingBrokers" : "BalancingNewBrokers",
                     "Created Rebalance " + name + " (" + (remove ? "remove-brokers " : "add-brokers ") +
                         join_ids(d.brokers) + (spec.rebalance_auto_approve ? ")" : "; approve it to start)"));
      got = created;
    } else {
      got = client_.get(path);  // made meanwhile (409): read it
    }
  } else if (!got.ok()) {
    out.error = "Rebalance " + name + ": " + got.describe();
    return out;
  }
  if (got.ok()) {
    const auto st = got.body.value("status", json::object());
    const auto message = st.value("message", "");
    out.drain = "Rebalance " + name + " is " + st.value("state", std::string("New")) +
                (message.empty() ? std::string() : " (" + message + ")");
  }
  return out;
}

RollOutcome MillraceReconciler::rolling_restart(const json& owner, const MillraceSpec& spec, const NodeIds& ids) {
  RollOutcome out;
  const auto old = owner.value("status", json::object()).value("roll", json::object());
  const int32_t restarted = old.value("restarting", -1);
  auto sts = caches_.stateful_sets.get(spec.namespace_, spec.name);
  if (!sts) return out;
  const auto sts_status = (*sts).value("status", json::object());
  const auto revision = sts_status.value("updateRevision", "");
  // The StatefulSet controller has not seen the latest template yet: which
  // pods are outdated is not known. Wait for it rather than guess.
  const bool current = !revision.empty() && sts_status.value("observedGeneration", int64_t{-1}) >=
                                                (*sts)["metadata"].value("generation", int64_t{0});
  std::vector<rolling::RollMember> members;
  bool any_outdated = false;
  const int replicas = std::max(0, (*sts)["spec"].value("replicas", 1));
  for (int ordinal = 0; ordinal < replicas; ++ordinal) {
    rolling::RollMember m;
    m.pod = pod_name(spec, ordinal);
    auto id = ids.of(m.pod);
    if (!id) continue;
    m.id = *id;
    if (auto p = caches_.pods.get(spec.namespace_, m.pod)) {
      const auto& md = (*p)["metadata"];
      auto cond = find_condition((*p)["status"].value("conditions", json::array()), "Ready");
      m.ready = !cond.is_null() && cond.value("status", "") == "True" && md.value("deletionTimestamp", "").empty();
      const auto hash = md.value("labels", json::object()).value("controller-revision-hash", "");
      const auto annotations = md.value("annotations", json::object());
      m.outdated = (current && !hash.empty() && hash != revision) ||
                   (annotations.contains(kRestartAnnotation) && md.value("deletionTimestamp", "").empty());
    }
    any_outdated = any_outdated || m.outdated;
    members.push_back(m);
  }
  if (!any_outdated && restarted < 0) {  // nothing to do: no Kafka call
    if (!old.empty()) {  // a roll whose last brokers left (scaled down) meanwhile
      out.reason = "Finished";
      out.message = "no broker is left to restart";
    }
    return out;
  }
  out.waiting = true;
  RollFacts facts;
  if (calls_.roll_facts) facts = calls_.roll_facts(owner);
  else facts.error = "the operator was built without a Kafka client";
  json roll = {{"pending", json::array()}};
  if (restarted >= 0) roll["restarting"] = restarted;
  if (!facts.error.empty()) {
    out.reason = "WaitingForBroker";
    out.message = "the restart gate cannot be checked: " + facts.error;
    roll["message"] = out.message;
    out.status = roll;
    return out;
  }
  for (auto& m : members)  // serving only once its broker is registered and unfenced again
    m.ready = m.ready && std::find(facts.live.begin(), facts.live.end(), m.id) != facts.live.end();
  auto step = rolling::next_roll_step(members, restarted, facts.partitions, facts.quorum);
  roll["pending"] = step.pending;
  out.reason = step.reason;
  out.message = step.message;
  const bool was_blocked = old.value("blocked", false);
  switch (step.action) {
    case rolling::RollAction::kIdle:
      out.waiting = false;
      out.status = nullptr;
      if (!old.empty()) {
        out.reason = "Finished";
        out.message = "no broker is left to restart";
      }
      return out;
    case rolling::RollAction::kSettled: {
      roll.erase("restarting");
      events_.record(owner, "Normal", "BrokerRestarted", step.message);
      // Hand its partitions back to it (preferred leaders) now, not at the
      // brokers' next leader.imbalance.check.interval.seconds.
      if (calls_.elect_preferred) {
        auto e = calls_.elect_preferred(owner);
        elected_[spec.namespace_ + "/" + spec.name] = std::chrono::steady_clock::now();
        if (!e.empty())
          spdlog::info("millrace {}/{}: preferred-leader election after broker {} came back: {}", spec.namespace_,
                       spec.name, step.broker, e);
      }
      if (step.pending.empty()) {
        events_.record(owner, "Normal", "RollFinished", "every broker runs the current pod template");
        out.reason = "Finished";
        out.message = "the last broker restarted (" + std::to_string(step.broker) + ") is back";
        out.waiting = true;  // one more pass soon: status.leaders after the election
        out.status = nullptr;
        return out;
      }
      break;
    }
    case rolling::RollAction::kWait:
      if (step.reason == "Blocked") {
        roll["blocked"] = true;
        if (!was_blocked) events_.record(owner, "Warning", "RestartBlocked", step.message);
      }
      break;
    case rolling::RollAction::kRestart: {
      auto pod = pod_name(spec, 0);
      for (const auto& m : members)
        if (m.id == step.broker) pod = m.pod;
      auto r = client_.remove(res::kPod.object(spec.namespace_, pod), res::kPod.plural);
      if (!r.ok() && !r.not_found()) {
        out.reason = "WaitingForBroker";
        out.message = "deleting pod " + pod + " to restart broker " + std::to_string(step.broker) + ": " + r.describe();
        break;
      }
      spdlog::info("millrace {}/{}: {}", spec.namespace_, spec.name, step.message);
      events_.record(owner, "Normal", "RestartingBroker", step.message);
      roll["restarting"] = step.broker;
      break;
    }
  }
  roll["message"] = out.message;
  out.status = roll;
  return out;
}

// ConfigMap → node-ids ConfigMap → headless Service → bootstrap Service → StatefulSet → PDB → ServiceMonitor.
std::string MillraceReconciler::ensure_objects(const MillraceSpec& spec, const json& owner,
                                               const MonitorState& monitor, const NodeIds& ids) {
  RenderOptions opts{.service_monitor_crd = monitor.served, .node_ids = ids};
  for (const auto& desired : render_all(spec, opts)) {
    auto kind = desired.value("kind", "");
    Informer* cache = kind == "ConfigMap"             ? &caches_.config_maps
                      : kind == "Service"             ? &caches_.services
                      : kind == "StatefulSet"         ? &caches_.stateful_sets
                      : kind == "PodDisruptionBudget" ? &caches_.pdbs
                                                      : nullptr;
    auto err = ensure(desired, cache, owner);
    if (!err.empty()) return kind + " " + desired["metadata"].value("name", "") + ": " + err;
  }
  return "";
}

std::string MillraceReconciler::ensure(const json& desired, Informer* cache, const json& owner) {
  const auto& md = desired["metadata"];
  auto ns = md.value("namespace", ""), name = md.value("name", "");
  const Resource* r = nullptr;
  for (const Resource* c : {&res::kConfigMap, &res::kService, &res::kStatefulSet, &res::kPdb, &res::kServiceMonitor})
    if (c->kind == desired.value("kind", "")) r = c;
  if (!r) return "no resource for kind " + desired.value("kind", "");
  std::optional<json> live;
  if (cache) {
    live = cache->get(ns, name);
  } else {
    auto got = client_.get(r->object(ns, name));
    if (got.ok()) live = got.body;
    else if (!got.not_found()) return got.describe();
  }
  if (live && json_subset(desired, *live)) return "";  // converged: no write
  auto applied = client_.apply(r->object(ns, name), desired, r->plural);
  if (!applied.ok()) return applied.describe();
  if (cache) cache->upsert(applied.body);  // the next pass sees our write even before its watch event
  spdlog::info("millrace {}/{}: applied {} {}", ns, owner["metadata"].value("name", ""), r->kind, name);
  events_.record(owner, "Normal", live ? "Updated" : "Created", (live ? "Updated " : "Created ") + r->kind + " " + name);
  return "";
}

MonitorState MillraceReconciler::service_monitor_state(const MillraceSpec& spec) {
  MonitorState m{.wanted = spec.metrics && spec.service_monitor};
  if (!m.wanted) return m;
  // Discovery, not the CRD object: it says the resource is served (the CRD is
  // Established), and reading it needs no RBAC on CRDs.
  auto r = client_.get(res::kServiceMonitor.api);
  if (r.not_found()) return m;
  if (!r.ok()) {
    m.error = "discovery of " + res::kServiceMonitor.api_version() + ": " + r.describe();
    return m;
  }
  for (const auto& resource : r.body.value("resources", json::array()))
    if (resource.value("name", "") == res::kServiceMonitor.plural) m.served = true;
  return m;
}

std::string MillraceReconciler::prune_service_monitor(const MillraceSpec& spec, const json& owner) {
  auto path = res::kServiceMonitor.object(spec.namespace_, spec.name);
  auto live = client_.get(path);
  if (live.not_found()) return "";  // none, or the CRD is not installed at all
  if (!live.ok()) return "ServiceMonitor " + spec.name + ": " + live.describe();
  if (!controlled_by(live.body, spec.uid)) return "";  // not ours: leave it alone
  auto r = client_.remove(path, res::kServiceMonitor.plural);
  if (!r.ok() && !r.not_found()) return "ServiceMonitor " + spec.name + ": delete: " + r.describe();
  spdlog::info("millrace {}/{}: deleted ServiceMonitor {} (no longer wanted)", spec.namespace_, spec.name, spec.name);
  events_.record(owner, "Normal", "Deleted", "Deleted ServiceMonitor " + spec.name);
  return "";
}

json MillraceReconciler::compute_status(const json& owner, const MillraceSpec& spec, const ScaleDownPlan& plan,
                                        const MonitorState& monitor, const NodeIds& node_ids, const ScaleOutcome& scale,
                                        const RollOutcome& roll, const std::string& error, bool* ready) {
  std::vector<int> ids;
  json brokers = json::array();
  int ready_pods = 0;
  for (const auto& pod : caches_.pods.list()) {
    const auto& md = pod["metadata"];
    if (md.value("namespace", "") != spec.namespace_) continue;
    auto labels = md.value("labels", json::object());
    if (labels.value(kInstanceLabel, "") != spec.name) continue;
    // The id the broker of this pod runs with: the one recorded for its name.
    auto name = md.value("name", "");
    auto id = node_ids.of(name);
    if (id) ids.push_back(*id);
    json b = {{"pod", name}};
    if (id) b["nodeId"] = *id;
    brokers.push_back(b);
    auto cond = find_condition(pod["status"].value("conditions", json::array()), "Ready");
    if (!cond.is_null() && cond.value("status", "") == "True" && md.value("deletionTimestamp", "").empty())
      ++ready_pods;
  }
  std::sort(ids.begin(), ids.end());
  std::sort(brokers.begin(), brokers.end(), [](const json& a, const json& b) { return a["pod"] < b["pod"]; });
  int64_t generation = owner["metadata"].value("generation", int64_t{0});
  Condition c{"Ready", "False", "", "", generation};
  if (!error.empty()) {
    c.reason = "ReconcileFailed";
    c.message = error;
  } else if (ready_pods >= spec.brokers) {
    c.status = "True";
    c.reason = "BrokersReady";
    c.message = std::to_string(ready_pods) + "/" + std::to_string(spec.brokers) + " brokers ready";
  } else {
    c.reason = "BrokersNotReady";
    c.message = std::to_string(ready_pods) + "/" + std::to_string(spec.brokers) + " brokers ready";
  }
  *ready = c.status == "True";
  const auto& old = owner.value("status", json::object());
  auto now = now_rfc3339();
  auto conditions = set_condition(old.value("conditions", json::array()), c, now);
  auto was_blocked = find_condition(conditions, kScaleDownBlocked);
  if (plan.blocker) {
    Condition b{kScaleDownBlocked, "True", plan.blocker->error.empty() ? "BrokerNotEmpty" : "BrokerStateUnknown",
                scale_down_message(*plan.blocker, plan.replicas, spec.brokers), generation};
    if (was_blocked.is_null() || was_blocked.value("status", "") != "True")
      events_.record(owner, "Warning", "ScaleDownBlocked", b.message);
    conditions = set_condition(conditions, b, now);
  } else if (!was_blocked.is_null()) {
    conditions = set_condition(
        conditions, {kScaleDownBlocked, "False", "ScaleDownAllowed", "no broker to be removed hosts partitions", generation},
        now);
  }
  // Clustered: one cluster, and which pods hold its controller quorum.
  if (!node_ids.voters.empty()) {
    std::string pods;
    for (auto id : node_ids.voters) {
      if (!pods.empty()) pods += ',';
      pods += node_ids.pod_of(id);
    }
    std::string m = std::to_string(plan.replicas) + " broker" + (plan.replicas == 1 ? "" : "s") +
                    "; controller quorum: node" + (node_ids.voters.size() == 1 ? " " : "s ") +
                    join_ids(node_ids.voters) + " (pod" + (node_ids.voters.size() == 1 ? " " : "s ") + pods + ")";
    const int floor = pods_holding_voters(node_ids, spec.name);
    if (spec.brokers < floor)
      m += "; spec.brokers " + std::to_string(spec.brokers) + " would remove a controller voter: the StatefulSet keeps " +
           std::to_string(floor) + " pods (the quorum's voters are fixed)";
    conditions = set_condition(
        conditions,
        {kClusteredCondition, "True", spec.brokers < floor ? "VoterFloor" : "ControllerQuorum", m, generation}, now);
  }
  if (!monitor.wanted) {
    conditions = remove_condition(conditions, kServiceMonitorCondition);
  } else if (error.empty()) {  // on an error the condition keeps what the last good pass knew
    auto before = find_condition(conditions, kServiceMonitorCondition);
    Condition m{kServiceMonitorCondition, "True", "Applied",
                "ServiceMonitor " + spec.name + " selects the broker Services; Prometheus scrapes port admin at /metrics",
                generation};
    if (!monitor.served) {
      m.status = "False";
      m.reason = kCrdNotInstalled;
      m.message = "CRD " + res::kServiceMonitor.api_version() + " ServiceMonitor not installed: no ServiceMonitor " +
                  "created (looked for again every " + std::to_string(kServiceMonitorRecheck.count()) + "s)";
      if (before.is_null() || before.value("reason", "") != kCrdNotInstalled)
        events_.record(owner, "Normal", "ServiceMonitorSkipped", m.message);
    }
    conditions = set_condition(conditions, m, now);
  }
  // Leader skew over the brokers the StatefulSet runs (a broker leading
  // nothing counts 0), asked only when all are Ready; else the last known.
  json leaders = old.value("leaders", json());
  if (calls_.leader_counts && error.empty() && ready_pods >= spec.brokers && !ids.empty() && roll.status.is_null()) {
    auto counts = calls_.leader_counts(owner);
    // Drift: partitions led away from their preferred replica (a broker that
    // restarted, a leader that failed over) are handed back, at most once a minute.
    auto& last = elected_[spec.namespace_ + "/" + spec.name];
    if (counts.error.empty() && counts.not_preferred > 0 && calls_.elect_preferred &&
        std::chrono::steady_clock::now() - last > std::chrono::minutes(1)) {
      last = std::chrono::steady_clock::now();
      auto e = calls_.elect_preferred(owner);
      spdlog::info("millrace {}/{}: preferred-leader election for {} partitions not led by their preferred replica{}",
                   spec.namespace_, spec.name, counts.not_preferred, e.empty() ? std::string() : ": " + e);
      if (e.empty()) counts = calls_.leader_counts(owner);
    }
    if (counts.error.empty()) {
      json by = json::object();
      int lo = std::numeric_limits<int>::max(), hi = 0;
      for (auto id : ids) {
        auto it = counts.leaders.find(id);
        int n = it == counts.leaders.end() ? 0 : it->second;
        by[std::to_string(id)] = n;
        lo = std::min(lo, n);
        hi = std::max(hi, n);
      }
      leaders = {{"byBroker", by}, {"skew", hi - lo}, {"notPreferred", counts.not_preferred}};
    }
  }
  // RollingRestart: set while a roll goes, False once it finished; never set
  // on a Millrace that has not rolled.
  if (!roll.reason.empty()) {
    const bool going = roll.reason != "Finished";
    conditions = set_condition(
        conditions, {kRollingRestartCondition, going ? "True" : "False", roll.reason, roll.message, generation}, now);
  }
  json status = {{"observedGeneration", generation},
                 {"balancedBrokers", scale.balanced},
                 {"readyBrokers", ready_pods},
                 {"bootstrapAddress", bootstrap_address(spec)},
                 {"brokerIds", ids},
                 {"brokers", brokers},
                 {"conditions", conditions}};
  if (!scale.rebalance.empty()) status["scaleRebalance"] = scale.rebalance;
  if (!leaders.is_null()) status["leaders"] = leaders;
  // A merge patch removes only what it sets to null.
  if (!roll.status.is_null()) {
    json r = roll.status;
    const json was = old.value("roll", json::object());
    if (was.is_object())
      for (const auto& [k, v] : was.items())
        if (!r.contains(k)) r[k] = nullptr;
    status["roll"] = r;
  } else if (old.contains("roll")) {
    status["roll"] = nullptr;
  }
  return status;
}

std::string MillraceReconciler::write_status(const json& owner, const json& status) {
  if (status_equal(owner.value("status", json::object()), status)) return "";  // unchanged: no write
  const auto& md = owner["metadata"];
  auto r = client_.merge_patch(res::kMillrace.object(md.value("namespace", ""), md.value("name", "")) + "/status",
                               {{"status", status}}, res::kMillrace.plural);
  if (!r.ok() && !r.not_found()) return "status: " + r.describe();
  // The next pass compares with what we wrote (and so records a transition's
  // event once) even before the watch brings it back.
  if (r.ok() && r.body.is_object()) caches_.millraces.upsert(r.body);
  return "";
}

}  // namespace millrace::op
