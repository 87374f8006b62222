#include "operator/rebalance_reconciler.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

#include "operator/conditions.h"
#include "operator/rebalance/machine.h"
#include "operator/rebalance/spec.h"
#include "operator/rebalance/status.h"
#include "operator/topic_spec.h"

namespace millrace::op {

namespace rb = rebalance;

namespace {

constexpr auto kRetryUnreachable = std::chrono::seconds(15);

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_warning(const std::string& reason) {
  static const std::set<std::string> kWarnings = {"ProposalInfeasible", "PlanLost", "UnknownAnnotation",
                                                  "IgnoredAnnotation"};
  return kWarnings.count(reason) > 0;
}

}  // namespace

ReconcileResult RebalanceReconciler::reconcile(const std::string& ns, const std::string& name) {
  // A fresh read, not the cache: the status written by the last pass must be the
  // one this pass starts from, or a converged object would be written again.
  auto got = client_.get(res::kRebalance.object(ns, name));
  if (got.not_found()) return ReconcileResult::done();
  if (!got.ok()) return ReconcileResult::failed("get rebalance: " + got.describe());
  const json& obj = got.body;
  const json& md = obj["metadata"];
  if (!md.value("deletionTimestamp", "").empty()) return ReconcileResult::done();  // the plan ConfigMap is owned
  const int64_t generation = md.value("generation", int64_t{0});
  const json old_status = obj.value("status", json::object());

  rb::Inputs in;
  in.generation = generation;
  in.annotation = rb::requested_action(obj);
  in.status = rb::parse_status(old_status);
  in.now_ms = now_ms();
  rb::StatusContext ctx;
  ctx.plan_config_map = rb::plan_config_map_name(name);
  const json old_proposal = old_status.value("proposal", json::object());
  ctx.reassignments = old_proposal.is_object() ? old_proposal.value("reassignments", 0) : 0;
  ctx.throttle_bytes_per_s = old_proposal.is_object() ? old_proposal.value("throttleBytesPerSecond", int64_t{0}) : 0;

  rb::ParsedSpec parsed = rb::parse_spec(obj);
  if (!parsed.error.empty()) {
    rb::Status st = in.status;
    st.state = rb::State::kNotReady;
    st.message = parsed.error;
    st.observed_generation = generation;
    ctx.reason = "InvalidSpec";
    auto err = write_status(obj, rb::render_status(st, ctx, generation, old_status, now_rfc3339()));
    return err.empty() ? ReconcileResult::done() : ReconcileResult::failed(err);
  }
  in.spec = parsed.spec;
  // The Topics' leader racks; a Topic with a bad value says so in its own status.
  in.spec.planner.preferred_leader_racks = preferred_leader_racks(topics_.list(), ns, parsed.cluster);

  // Where the brokers are; without them the state stands and a condition says why.
  auto unreachable = [&](const std::string& reason, const std::string& message) {
    // The state's condition stays as it was, reason included.
    const json kept = find_condition(old_status.value("conditions", json::array()), rb::to_string(in.status.state));
    if (kept.is_object()) ctx.reason = kept.value("reason", "");
    ctx.unreachable_reason = reason;
    ctx.unreachable_message = message;
    auto err = write_status(obj, rb::render_status(in.status, ctx, generation, old_status, now_rfc3339()));
    if (!err.empty()) return ReconcileResult::failed(err);
    return ReconcileResult::after(kRetryUnreachable);
  };
  auto millrace = millraces_.get(ns, parsed.cluster);
  if (!millrace) return unreachable("ClusterNotFound", "Millrace '" + parsed.cluster + "' does not exist in " + ns);
  const std::string bootstrap = kafka_.bootstrap(*millrace);
  if (bootstrap.empty()) return unreachable("BrokerUnavailable", "no ready broker of Millrace '" + parsed.cluster + "'");
  client::Admin& admin = *kafka_.admin_for(*millrace, bootstrap);
  Gathered g = gather(admin);
  if (!g.error.empty()) return unreachable("BrokerUnavailable", g.error);
  BrokerRates::Result rates = rates_.sample(*millrace);
  g.facts.partition_rates = std::move(rates.rates);
  g.facts.rate_warnings = std::move(rates.warnings);
  rb::Adapted adapted = rb::to_planner(g.facts);
  for (const std::string& w : adapted.warnings) spdlog::warn("rebalance {}/{}: {}", ns, name, w);
  in.cluster = std::move(adapted.cluster);
  in.in_flight = std::move(adapted.in_flight);
  in.spec.throttle_bytes_per_s = g.throttle;
  ctx.throttle_bytes_per_s = g.throttle;

  // The stored plan: only the one the status's proposal names counts.
  auto cm = client_.get(res::kConfigMap.object(ns, rb::plan_config_map_name(name)));
  if (!cm.ok() && !cm.not_found()) return ReconcileResult::failed("get plan: " + cm.describe());
  if (cm.ok() && in.status.proposal_ms > 0)
    if (auto moves = rb::parse_plan_data(cm.body.value("data", json::object()), in.status.proposal_ms)) {
      in.stored_plan = std::move(*moves);
      ctx.reassignments = static_cast<int32_t>(in.stored_plan.size());
    }

  rb::Outputs out = rb::step(in);

  // 1. The plan, before anything acts on it.
  if (out.store_plan) {
    ctx.reassignments = static_cast<int32_t>(out.store_plan->size());
    auto err = store_plan(obj, rb::render_plan_data(*out.store_plan, out.status.proposal, out.status.proposal_ms));
    if (!err.empty()) return ReconcileResult::failed(err);
  }
  // 2. Moves: cancels (stop), then new ones.
  std::string submit_error;
  if (!out.cancel.empty()) {
    std::map<client::TopicPartition, std::optional<std::vector<int32_t>>> cancels;
    for (const auto& tp : out.cancel) {
      cancels[{tp.first, tp.second}] = std::nullopt;
      spdlog::info("rebalance {}/{}: cancelling {}-{}", ns, name, tp.first, tp.second);
    }
    if (auto st = admin.alter_partition_reassignments(cancels); !st.ok()) submit_error = "cancel: " + st.to_string();
  }
  if (!out.submit.empty() && submit_error.empty()) {
    std::map<client::TopicPartition, std::optional<std::vector<int32_t>>> moves;
    for (const planner::Reassignment& m : out.submit) {
      moves[{m.topic, m.partition}] = m.to;
      spdlog::info("rebalance {}/{}: submitting {}-{} [{}] -> [{}]", ns, name, m.topic, m.partition,
                   fmt::join(m.from, ","), fmt::join(m.to, ","));
    }
    if (auto st = admin.alter_partition_reassignments(moves); !st.ok()) submit_error = "submit: " + st.to_string();
  }
  // 3. Events.
  for (const std::string& e : out.events) {
    const auto colon = e.find(": ");
    const std::string reason = colon == std::string::npos ? e : e.substr(0, colon);
    const std::string message = colon == std::string::npos ? "" : e.substr(colon + 2);
    events_.record(obj, is_warning(reason) ? "Warning" : "Normal", reason, message);
  }
  if (!submit_error.empty())
    events_.record(obj, "Warning", "ReassignmentFailed", submit_error);
  // 4. Status.
  if (out.status.state == rb::State::kNotReady) ctx.reason = "ProposalInfeasible";
  if (out.status.state == rb::State::kReady) ctx.reason = "Rebalanced";
  json status = rb::render_status(out.status, ctx, generation, old_status, now_rfc3339());
  std::string version = md.value("resourceVersion", "");
  if (auto err = write_status(obj, status, &version); !err.empty()) return ReconcileResult::failed(err);
  // 5. The annotation acted on.
  if (out.clear_annotation)
    if (auto err = clear_annotations(obj, version); !err.empty()) return ReconcileResult::failed(err);
  if (!submit_error.empty()) return ReconcileResult::failed(submit_error);
  if (out.requeue_after_ms > 0) return ReconcileResult::after(std::chrono::milliseconds(out.requeue_after_ms));
  return ReconcileResult::done();
}

RebalanceReconciler::Gathered RebalanceReconciler::gather(client::Admin& admin) {
  Gathered g;
  auto cluster = admin.describe_cluster();
  if (!cluster.ok()) return {{}, 0, "DescribeCluster: " + cluster.error().to_string()};
  g.facts.brokers = cluster->brokers;
  auto topics = admin.describe_all_topics(/*include_internal=*/true);
  if (!topics.ok()) return {{}, 0, "Metadata: " + topics.error().to_string()};
  g.facts.topics = std::move(*topics);
  auto dirs = admin.describe_log_dirs();
  if (!dirs.ok()) return {{}, 0, "DescribeLogDirs: " + dirs.error().to_string()};
  g.facts.log_dirs = std::move(*dirs);
  auto moving = admin.list_partition_reassignments();
  if (!moving.ok()) return {{}, 0, "ListPartitionReassignments: " + moving.error().to_string()};
  g.facts.reassignments = std::move(*moving);
  std::vector<std::vector<client::ConfigEntry>> configs;
  for (const client::BrokerDescription& b : g.facts.brokers)
    if (auto c = admin.describe_broker_configs(b.id); c.ok()) configs.push_back(std::move(*c));
  g.throttle = rb::throttle_rate(configs);
  return g;
}

std::string RebalanceReconciler::store_plan(const json& rebalance, const json& data) {
  const json& md = rebalance["metadata"];
  const std::string ns = md.value("namespace", ""), name = md.value("name", "");
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata",
              {{"name", rb::plan_config_map_name(name)},
               {"namespace", ns},
               {"labels", {{"app.kubernetes.io/managed-by", "millrace-operator"}, {"millrace.io/rebalance", name}}},
               {"ownerReferences",
                json::array({{{"apiVersion", "millrace.io/v1alpha1"},
                              {"kind", "Rebalance"},
                              {"name", name},
                              {"uid", md.value("uid", "")},
                              {"controller", true},
                              {"blockOwnerDeletion", true}}})}}},
             {"data", data}};
  auto r = client_.apply(res::kConfigMap.object(ns, rb::plan_config_map_name(name)), cm, res::kConfigMap.plural);
  if (!r.ok()) return "store plan: " + r.describe();
  return "";
}

std::string RebalanceReconciler::write_status(const json& rebalance, const json& status, std::string* version) {
  const json old = rebalance.value("status", json::object());
  if (status_equal(old, status)) return "";
  const json& md = rebalance["metadata"];
  // A merge patch keeps keys it does not name: name the ones that went (null).
  json patch = status;
  if (old.is_object())
    for (const auto& [k, v] : old.items())
      if (!status.contains(k)) patch[k] = nullptr;
  auto r = client_.merge_patch(res::kRebalance.object(md.value("namespace", ""), md.value("name", "")) + "/status",
                               {{"status", patch}}, res::kRebalance.plural);
  if (!r.ok() && !r.not_found()) return "status: " + r.describe();
  if (r.ok() && version) *version = r.body["metadata"].value("resourceVersion", *version);
  return "";
}

std::string RebalanceReconciler::clear_annotations(const json& rebalance, const std::string& version) {
  const json& md = rebalance["metadata"];
  const json ann = md.value("annotations", json::object());
  json patch = json::object();
  for (const char* key : {rb::kRebalanceAnnotation, rb::kApproveAnnotation})
    if (ann.is_object() && ann.contains(key)) patch[key] = nullptr;
  if (patch.empty()) return "";
  // resourceVersion: a compare-and-swap, so a request written since this pass
  // read the object is not removed unseen (a conflict retries the pass).
  auto r = client_.merge_patch(res::kRebalance.object(md.value("namespace", ""), md.value("name", "")),
                               {{"metadata", {{"annotations", patch}, {"resourceVersion", version}}}},
                               res::kRebalance.plural);
  if (!r.ok() && !r.not_found()) return "annotation: " + r.describe();
  return "";
}

}  // namespace millrace::op
