#include "operator/millrace_reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "operator/conditions.h"

namespace millrace::op {

namespace {
constexpr const char* kScaleDownBlocked = "ScaleDownBlocked";
constexpr const char* kServiceMonitorCondition = "ServiceMonitor";
constexpr const char* kCrdNotInstalled = "CRDNotInstalled";
constexpr const char* kClusteredCondition = "Clustered";

constexpr const char* kMultiBrokerUnsupported = "MultiBrokerUnsupported";

std::string pod_name(const MillraceSpec& spec, int ordinal) { return spec.name + "-" + std::to_string(ordinal); }

// Why spec.brokers above the limit is refused, and what runs instead.
std::string multi_broker_message(int requested, int running) {
  std::string m = "spec.brokers is " + std::to_string(requested) + ", but brokers do not replicate yet: " +
                  std::to_string(requested) + " brokers would be " + std::to_string(requested) +
                  " separate single-node clusters behind one bootstrap Service. ";
  if (running > kMaxBrokersUntilReplication)
    m += "The existing StatefulSet of " + std::to_string(running) +
         " brokers is left as it is (never scaled down on this account: their volumes hold data) and not grown; ";
  else
    m += "Running " + std::to_string(kMaxBrokersUntilReplication) + " broker; ";
  return m + "set spec.brokers to " + std::to_string(kMaxBrokersUntilReplication) + ".";
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
  int wanted = brokers_to_run(spec.brokers, live);
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
  for (int ordinal = 0; ordinal < std::max(wanted, live); ++ordinal) pods.push_back(pod_name(spec, ordinal));
  auto alloc = read.error.empty() ? allocate_node_ids(read.ids, pods) : NodeIdsAllocation{read.ids, read.error};
  if (!alloc.error.empty()) {
    // An id record that cannot be trusted changes nothing: a wrong id would make
    // a broker someone else. Say why on the resource, look again on each change.
    bool ready = false;
    ScaleDownPlan hold{std::max(live, 0), std::nullopt};
    auto status = compute_status(*obj, spec, hold, {}, alloc.ids, "node ids: " + alloc.error, &ready);
    auto status_error = write_status(*obj, status);
    return ReconcileResult::failed(status_error.empty() ? alloc.error : status_error);
  }
  auto plan = plan_replicas(*obj, spec, wanted, live, alloc.ids);
  auto applied = spec;
  applied.brokers = plan.replicas;  // held above `wanted` while a broker to remove is not empty
  auto monitor = service_monitor_state(spec);
  auto error = ensure_objects(applied, *obj, monitor, alloc.ids);
  if (error.empty() && !monitor.error.empty()) error = "ServiceMonitor: " + monitor.error;
  if (error.empty() && !monitor.wanted) error = prune_service_monitor(spec, *obj);
  bool ready = false;
  auto status = compute_status(*obj, spec, plan, monitor, alloc.ids, error, &ready);
  auto status_error = write_status(*obj, status);
  if (!error.empty()) return ReconcileResult::failed(error);
  if (!status_error.empty()) return ReconcileResult::failed(status_error);
  // Emptying a broker happens in Kafka, which wakes no informer: poll while blocked.
  if (plan.blocker) return ReconcileResult::after(std::chrono::seconds(10));
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
    if (broker_load_) return broker_load_(owner, pod, *id);
    return BrokerLoad{*id, pod, 0, "the operator was built without a Kafka client"};
  });
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
                                        const MonitorState& monitor, const NodeIds& node_ids, const std::string& error,
                                        bool* ready) {
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
  } else if (spec.brokers > kMaxBrokersUntilReplication) {
    c.reason = kMultiBrokerUnsupported;
    c.message = multi_broker_message(spec.brokers, plan.replicas);
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
  // Clustered: whether the brokers form one cluster. Ready says the same refusal;
  // the Warning event is recorded once, when the refusal starts.
  if (spec.brokers > kMaxBrokersUntilReplication) {
    auto before = find_condition(conditions, kClusteredCondition);
    Condition m{kClusteredCondition, "False", kMultiBrokerUnsupported, multi_broker_message(spec.brokers, plan.replicas),
                generation};
    if (before.is_null() || before.value("reason", "") != m.reason)
      events_.record(owner, "Warning", kMultiBrokerUnsupported, m.message);
    conditions = set_condition(conditions, m, now);
  } else {
    conditions = set_condition(
        conditions, {kClusteredCondition, "True", "SingleBroker", "one broker: one cluster", generation}, now);
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
  json status = {{"observedGeneration", generation},
                 {"readyBrokers", ready_pods},
                 {"bootstrapAddress", bootstrap_address(spec)},
                 {"brokerIds", ids},
                 {"brokers", brokers},
                 {"conditions", conditions}};
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
