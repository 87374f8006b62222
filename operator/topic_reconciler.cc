#include "operator/topic_reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "operator/conditions.h"
#include "operator/config_diff.h"
#include "operator/render.h"

namespace millrace::op {

namespace errc = client::errc;

namespace {

bool has_finalizer(const json& obj) {
  for (const auto& f : obj["metadata"].value("finalizers", json::array()))
    if (f == kTopicFinalizer) return true;
  return false;
}

bool is_transient(int16_t code) {
  return code == errc::kNetworkException || code == errc::kRequestTimedOut || client::is_retriable(code);
}

}  // namespace

ReconcileResult TopicReconciler::reconcile(const std::string& ns, const std::string& name) {
  auto cached = topics_.get(ns, name);
  if (!cached) return ReconcileResult::done();
  const json& topic = *cached;
  const auto& md = topic["metadata"];
  auto kafka_name = kafka_topic_name(topic);
  auto annotations = md.value("annotations", json::object());
  int64_t generation = md.value("generation", int64_t{0});
  auto old_status = topic.value("status", json::object());
  json status = old_status;
  status["observedGeneration"] = generation;
  status["topicName"] = kafka_name;
  auto conditions = old_status.value("conditions", json::array());
  auto set_ready = [&](const std::string& st, const std::string& reason, const std::string& msg) {
    status["conditions"] = set_condition(conditions, {"Ready", st, reason, msg, generation}, now_rfc3339());
  };

  // Unmanaged: let go of the Kafka topic entirely.
  if (annotations.value(kManagedAnnotation, "") == "false") {
    if (has_finalizer(topic))
      if (auto err = set_finalizer(topic, false); !err.empty()) return ReconcileResult::failed(err);
    if (!md.value("deletionTimestamp", "").empty()) return ReconcileResult::done();
    set_ready("Unknown", "Unmanaged", "millrace.io/managed is \"false\": the operator leaves this topic alone");
    auto err = write_status(topic, status);
    return err.empty() ? ReconcileResult::done() : ReconcileResult::failed(err);
  }

  if (!md.value("deletionTimestamp", "").empty()) {
    if (!has_finalizer(topic)) return ReconcileResult::done();
    if (auto err = finalize(topic, kafka_name); !err.empty()) return ReconcileResult::failed(err);
    auto err = set_finalizer(topic, false);
    return err.empty() ? ReconcileResult::done() : ReconcileResult::failed(err);
  }

  if (auto owner = conflicting_owner(topic, kafka_name)) {
    set_ready("False", "NameConflict",
              "Kafka topic '" + kafka_name + "' is already managed by the older Topic " + *owner);
    auto err = write_status(topic, status);
    return err.empty() ? ReconcileResult::after(std::chrono::seconds(60)) : ReconcileResult::failed(err);
  }

  // A bad field is the user's to fix: said in the status, nothing done in Kafka.
  if (auto racks = parse_preferred_racks(topic); !racks.error.empty()) {
    set_ready("False", "InvalidSpec", racks.error);
    auto err = write_status(topic, status);
    return err.empty() ? ReconcileResult::done() : ReconcileResult::failed(err);
  }

  if (!has_finalizer(topic))
    if (auto err = set_finalizer(topic, true); !err.empty()) return ReconcileResult::failed(err);

  auto cluster_name = topic["spec"].value("clusterRef", json::object()).value("name", "");
  auto millrace = millraces_.get(ns, cluster_name);
  Outcome out;
  if (!millrace) {
    out = {"False", "ClusterNotFound", "Millrace '" + cluster_name + "' does not exist in namespace " + ns, true};
  } else if (auto bs = kafka_.bootstrap(*millrace); bs.empty()) {
    out = {"False", "BrokerUnavailable", "no ready broker of Millrace '" + cluster_name + "'", true};
  } else {
    out = sync_topic(topic, kafka_name, *kafka_.admin_for(*millrace, bs), &status);
  }
  set_ready(out.status, out.reason, out.message);
  if (auto err = write_status(topic, status); !err.empty()) return ReconcileResult::failed(err);
  if (out.retry) return ReconcileResult::failed(out.reason + ": " + out.message);
  return ReconcileResult::after(std::chrono::seconds(120));  // notice drift made outside Kubernetes
}

// create-or-adopt → refuse shrink / RF change → grow → configs.
TopicReconciler::Outcome TopicReconciler::sync_topic(const json& topic, const std::string& kafka_name,
                                                     client::Admin& admin, json* status) {
  const auto spec = topic.value("spec", json::object());
  int32_t partitions = spec.value("partitions", 1);
  int32_t rf = spec.value("replicationFactor", 1);
  std::map<std::string, std::string> desired;
  const auto config = spec.value("config", json::object());
  for (const auto& [k, v] : config.items()) desired[k] = v.is_string() ? v.get<std::string>() : v.dump();

  auto described = admin.describe_topic(kafka_name);
  if (!described.ok() && described.error().code == errc::kUnknownTopicOrPartition) {
    client::NewTopic nt{kafka_name, partitions, static_cast<int16_t>(rf), desired};
    auto st = admin.create_topic(nt);
    if (!st.ok() && st.code != errc::kTopicAlreadyExists) {
      return {"False", is_transient(st.code) ? "BrokerUnavailable" : "CreateFailed", st.to_string(),
              is_transient(st.code)};
    }
    if (st.ok()) events_.record(topic, "Normal", "TopicCreated", "Created Kafka topic " + kafka_name);
    else events_.record(topic, "Normal", "TopicAdopted", "Adopted existing Kafka topic " + kafka_name);
    described = admin.describe_topic(kafka_name);
  }
  if (!described.ok()) {
    auto code = described.error().code;
    return {"False", is_transient(code) ? "BrokerUnavailable" : "DescribeFailed", described.error().to_string(), true};
  }
  int32_t live_partitions = static_cast<int32_t>(described->partitions.size());
  int32_t live_rf = live_partitions > 0 ? static_cast<int32_t>(described->partitions[0].replicas.size()) : rf;
  (*status)["partitions"] = live_partitions;
  (*status)["replicationFactor"] = live_rf;
  // Kafka's text form, as kafka-topics prints it; a topic deleted and re-created
  // outside Kubernetes shows up here as a new id.
  if (!described->topic_id.empty()) (*status)["topicId"] = described->topic_id;
  if (partitions < live_partitions)
    return {"False", "PartitionShrinkRefused",
            "spec.partitions " + std::to_string(partitions) + " is below the topic's " +
                std::to_string(live_partitions) + " partitions; Kafka topics cannot shrink"};
  if (rf != live_rf)
    return {"False", "ReplicationFactorChangeRefused",
            "spec.replicationFactor " + std::to_string(rf) + " differs from the topic's " + std::to_string(live_rf) +
                "; changing it needs a reassignment, which is not supported yet"};
  if (partitions > live_partitions) {
    auto st = admin.create_partitions(kafka_name, partitions);
    if (!st.ok()) return {"False", is_transient(st.code) ? "BrokerUnavailable" : "GrowFailed", st.to_string(), true};
    events_.record(topic, "Normal", "PartitionsAdded",
                   "Grew " + kafka_name + " from " + std::to_string(live_partitions) + " to " +
                       std::to_string(partitions) + " partitions");
    (*status)["partitions"] = partitions;
  }
  auto configs = admin.describe_topic_configs(kafka_name);
  if (!configs.ok())
    return {"False", is_transient(configs.error().code) ? "BrokerUnavailable" : "DescribeConfigsFailed",
            configs.error().to_string(), true};
  std::map<std::string, std::string> dynamic;
  for (const auto& e : *configs)
    if (e.source == 1 && e.value) dynamic[e.name] = *e.value;  // DYNAMIC_TOPIC_CONFIG
  auto ops = diff_topic_config(desired, dynamic);
  if (!ops.empty()) {
    std::vector<client::ConfigChange> changes;
    std::string summary;
    for (const auto& op : ops) {
      if (op.kind == ConfigOp::Kind::kSet) changes.push_back({op.key, client::ConfigOp::kSet, op.value});
      else changes.push_back({op.key, client::ConfigOp::kDelete, std::nullopt});
      summary += (summary.empty() ? "" : ", ") + std::string(op.kind == ConfigOp::Kind::kSet ? "set " : "delete ") +
                 op.key;
    }
    auto st = admin.alter_topic_configs(kafka_name, changes);
    if (!st.ok())
      return {"False", is_transient(st.code) ? "BrokerUnavailable" : "InvalidConfig", st.to_string(),
              is_transient(st.code)};
    events_.record(topic, "Normal", "ConfigChanged", "Topic " + kafka_name + ": " + summary);
  }
  return {"True", "TopicReady",
          "topic " + kafka_name + " has " + std::to_string((*status)["partitions"].get<int>()) + " partitions"};
}

std::string TopicReconciler::finalize(const json& topic, const std::string& kafka_name) {
  const auto& md = topic["metadata"];
  auto policy = topic["spec"].value("deletionPolicy", "Delete");
  if (policy == "Retain") return "";
  if (conflicting_owner(topic, kafka_name)) return "";  // not ours to delete
  auto cluster_name = topic["spec"].value("clusterRef", json::object()).value("name", "");
  auto millrace = millraces_.get(md.value("namespace", ""), cluster_name);
  if (!millrace || !(*millrace)["metadata"].value("deletionTimestamp", "").empty()) {
    spdlog::info("topic {}: cluster {} is gone; releasing the finalizer", kafka_name, cluster_name);
    return "";
  }
  auto bs = kafka_.bootstrap(*millrace);
  if (bs.empty()) return "cannot delete topic " + kafka_name + ": no ready broker";
  auto st = kafka_.admin_for(*millrace, bs)->delete_topic(kafka_name);
  if (!st.ok() && st.code != errc::kUnknownTopicOrPartition) return "delete topic " + kafka_name + ": " + st.to_string();
  events_.record(topic, "Normal", "TopicDeleted", "Deleted Kafka topic " + kafka_name);
  return "";
}

std::string TopicReconciler::set_finalizer(const json& topic, bool present) {
  const auto& md = topic["metadata"];
  json fins = json::array();
  for (const auto& f : md.value("finalizers", json::array()))
    if (f != kTopicFinalizer) fins.push_back(f);
  if (present) fins.push_back(kTopicFinalizer);
  // resourceVersion makes this a compare-and-swap on the finalizer list.
  json patch = {{"metadata", {{"finalizers", fins}, {"resourceVersion", md.value("resourceVersion", "")}}}};
  auto r = client_.merge_patch(res::kTopic.object(md.value("namespace", ""), md.value("name", "")), patch,
                               res::kTopic.plural);
  if (r.ok() || r.not_found()) return "";
  return "finalizer: " + r.describe();
}

std::optional<std::string> TopicReconciler::conflicting_owner(const json& topic, const std::string& kafka_name) {
  const auto& md = topic["metadata"];
  auto ns = md.value("namespace", "");
  auto cluster = topic["spec"].value("clusterRef", json::object()).value("name", "");
  auto mine = std::make_pair(md.value("creationTimestamp", ""), md.value("name", ""));
  for (const auto& other : topics_.list()) {
    const auto& omd = other["metadata"];
    if (omd.value("namespace", "") != ns || omd.value("name", "") == md.value("name", "")) continue;
    if (other["spec"].value("clusterRef", json::object()).value("name", "") != cluster) continue;
    if (kafka_topic_name(other) != kafka_name) continue;
    if (omd.value("annotations", json::object()).value(kManagedAnnotation, "") == "false") continue;
    auto theirs = std::make_pair(omd.value("creationTimestamp", ""), omd.value("name", ""));
    if (theirs < mine) return omd.value("name", "");
  }
  return std::nullopt;
}

std::string TopicReconciler::write_status(const json& topic, const json& status) {
  if (status_equal(topic.value("status", json::object()), status)) return "";
  const auto& md = topic["metadata"];
  auto r = client_.merge_patch(res::kTopic.object(md.value("namespace", ""), md.value("name", "")) + "/status",
                               {{"status", status}}, res::kTopic.plural);
  if (!r.ok() && !r.not_found()) return "status: " + r.describe();
  return "";
}

}  // namespace millrace::op
