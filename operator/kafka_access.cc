#include "operator/kafka_access.h"

#include <algorithm>
#include <cstdlib>

#include "operator/conditions.h"
#include "operator/render.h"

namespace millrace::op {
namespace {

bool pod_ready(const json& pod) {
  auto ready = find_condition(pod["status"].value("conditions", json::array()), "Ready");
  return !ready.is_null() && ready.value("status", "") == "True" &&
         pod["metadata"].value("deletionTimestamp", "").empty();
}

}  // namespace

std::string KafkaAccess::bootstrap(const json& millrace) {
  auto spec = parse_millrace(millrace);
  if (addressing_ == KafkaAddressing::kService) return bootstrap_address(spec);
  std::string out;
  for (const auto& pod : pods_.list()) {
    const auto& md = pod["metadata"];
    if (md.value("namespace", "") != spec.namespace_) continue;
    if (md.value("labels", json::object()).value(kInstanceLabel, "") != spec.name) continue;
    if (!pod_ready(pod)) continue;
    auto ip = pod["status"].value("podIP", "");
    if (ip.empty()) continue;
    auto port = md.value("annotations", json::object()).value("millrace.io/kafka-port", std::to_string(spec.kafka_port));
    out += (out.empty() ? "" : ",") + ip + ":" + port;
  }
  return out;
}

client::ClientConfig admin_client_config(const std::string& bootstrap, const client::SecurityConfig& security) {
  client::ClientConfig cfg;
  cfg.bootstrap_servers = bootstrap;
  cfg.client_id = "millrace-operator";
  cfg.request_timeout = std::chrono::seconds(10);
  // TCP, the TLS handshake and the SASL exchange together.
  cfg.connect_timeout = std::chrono::seconds(client::uses_tls(security.protocol) || client::uses_sasl(security.protocol) ? 5 : 3);
  cfg.security = security;
  return cfg;
}

client::Admin* KafkaAccess::admin_for(const std::string& bootstrap) { return admin_with(bootstrap, security_.all); }

client::Admin* KafkaAccess::admin_for(const json& millrace, const std::string& bootstrap) {
  return admin_with(bootstrap, security_.for_cluster(millrace));
}

client::Admin* KafkaAccess::admin_with(const std::string& bootstrap, const client::SecurityConfig& security) {
  // Keyed by the bootstrap list and what secures it: a cluster whose security
  // changes gets a new client. (The key stays in this process's memory.)
  const std::string key = bootstrap + "|" + std::string(client::protocol_name(security.protocol)) + "|" +
                          security.sasl.mechanism + "|" + security.sasl.username + "|" + security.sasl.password + "|" +
                          security.tls.truststore_location + "|" + security.tls.keystore_location;
  std::lock_guard lk(mu_);
  auto& a = admins_[key];
  if (!a) a = std::make_unique<client::Admin>(admin_client_config(bootstrap, security));
  return a.get();
}

BrokerLoad KafkaAccess::broker_load(const json& millrace, const std::string& pod_name, int32_t node_id) {
  auto spec = parse_millrace(millrace);
  BrokerLoad load;
  load.pod = pod_name;
  load.broker_id = node_id;
  // One cluster: any broker's metadata names every partition's replicas, so the
  // cluster is asked (a departing broker that is down is still counted right).
  auto address = bootstrap(millrace);
  if (address.empty()) {
    load.error = "no broker of the cluster is ready to be asked";
    return load;
  }
  auto topics = admin_for(millrace, address)->describe_all_topics(true);  // internal topics too
  if (!topics.ok()) {
    load.error = "asking it for its topics: " + topics.error().to_string();
    return load;
  }
  for (const auto& t : *topics)
    for (const auto& p : t.partitions)
      if (std::find(p.replicas.begin(), p.replicas.end(), load.broker_id) != p.replicas.end()) ++load.partitions;
  return load;
}

LeaderCounts KafkaAccess::leader_counts(const json& millrace) {
  LeaderCounts out;
  auto address = bootstrap(millrace);
  if (address.empty()) {
    out.error = "no broker of the cluster is ready to be asked";
    return out;
  }
  auto topics = admin_for(millrace, address)->describe_all_topics(true);
  if (!topics.ok()) {
    out.error = topics.error().to_string();
    return out;
  }
  for (const auto& t : *topics)
    for (const auto& p : t.partitions) {
      if (p.leader >= 0) ++out.leaders[p.leader];
      if (!p.replicas.empty() && p.leader != p.replicas.front()) ++out.not_preferred;
    }
  return out;
}

RollFacts KafkaAccess::roll_facts(const json& millrace) {
  RollFacts out;
  auto address = bootstrap(millrace);
  if (address.empty()) {
    out.error = "no broker of the cluster is ready to be asked";
    return out;
  }
  auto* admin = admin_for(millrace, address);
  auto topics = admin->describe_all_topics(true);
  if (!topics.ok()) {
    out.error = "asking for the topics: " + topics.error().to_string();
    return out;
  }
  for (const auto& t : *topics) {
    int32_t min_insync = 1;
    auto configs = admin->describe_topic_configs(t.name);
    if (!configs.ok()) {
      out.error = "asking for topic " + t.name + "'s min.insync.replicas: " + configs.error().to_string();
      return out;
    }
    for (const auto& c : *configs)
      if (c.name == "min.insync.replicas" && c.value) min_insync = std::max(1, std::atoi(c.value->c_str()));
    for (const auto& p : t.partitions) out.partitions.push_back({t.name, p.partition, p.replicas, p.isr, min_insync});
  }
  auto cluster = admin->describe_cluster();
  if (!cluster.ok()) {
    out.error = "asking for the brokers: " + cluster.error().to_string();
    return out;
  }
  for (const auto& b : cluster->brokers) out.live.push_back(b.id);
  auto quorum = admin->describe_quorum();
  if (!quorum.ok()) {
    out.error = "DescribeQuorum: " + quorum.error().to_string();
    return out;
  }
  out.quorum.leader = quorum->leader;
  for (const auto& v : quorum->voters) {
    out.quorum.voters.push_back(v.id);
    if (v.caught_up || v.id == quorum->leader) out.quorum.caught_up.push_back(v.id);
  }
  return out;
}

std::string KafkaAccess::elect_preferred(const json& millrace) {
  auto address = bootstrap(millrace);
  if (address.empty()) return "no broker of the cluster is ready to be asked";
  auto r = admin_for(millrace, address)->elect_leaders({}, client::ElectionType::kPreferred);
  return r.ok() ? "" : r.to_string();
}

}  // namespace millrace::op
