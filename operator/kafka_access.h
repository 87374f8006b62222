// How the operator reaches a Millrace cluster's brokers over Kafka, and the
// admin clients it keeps for them (client/admin.h), shared by the Topic
// reconciler (create/grow/configure topics) and the Millrace reconciler (is a
// broker about to be removed still hosting partitions?).
//
// Addressing: kService uses the bootstrap Service and the pods' DNS names under
// the headless Service (in a cluster); kPodIp uses the ready pods' IPs and the
// Kafka port each pod announces in millrace.io/kafka-port (the test cluster,
// where the harness runs brokers on 127.0.0.1). Thread-safe.
//
// Security: every admin client is secured as the KafkaClientSecurity given at
// construction says (TLS, SASL by the Java client's names: client/security_config.h;
// PLAINTEXT by default). The operator takes it from --kafka-client-config (a Java
// properties file); a Millrace's own spec.listeners and User credentials will
// choose it per cluster later (through security_for, which gets the Millrace).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "client/admin.h"
#include "operator/informer.h"
#include "operator/millrace_reconciler.h"
#include "operator/scale_down.h"

namespace millrace::op {

enum class KafkaAddressing { kService, kPodIp };

// How the operator's Kafka connections are secured: one SecurityConfig for
// every cluster, unless security_for (given a Millrace) picks one per cluster.
struct KafkaClientSecurity {
  client::SecurityConfig all;
  std::function<client::SecurityConfig(const json& millrace)> security_for;  // optional
  client::SecurityConfig for_cluster(const json& millrace) const { return security_for ? security_for(millrace) : all; }
};

// The admin client settings for a bootstrap list: the operator's client id and
// short timeouts, and `security`. Pure.
client::ClientConfig admin_client_config(const std::string& bootstrap, const client::SecurityConfig& security);

class KafkaAccess {
 public:
  KafkaAccess(Informer& pods, KafkaAddressing addressing, KafkaClientSecurity security = {})
      : pods_(pods), addressing_(addressing), security_(std::move(security)) {}

  // host:port[,host:port] of the cluster's brokers; "" when none is ready (kPodIp).
  std::string bootstrap(const json& millrace);
  // The admin client for a bootstrap list (created on first use, then kept),
  // secured as security_.all says.
  client::Admin* admin_for(const std::string& bootstrap);
  // The same, secured as the cluster's security says (security_for).
  client::Admin* admin_for(const json& millrace, const std::string& bootstrap);
  // Partition replicas hosted by broker `node_id` (the id recorded for `pod`,
  // node_ids.h), internal topics included, asked of the cluster (bootstrap()).
  BrokerLoad broker_load(const json& millrace, const std::string& pod, int32_t node_id);
  // Leaders per broker and partitions not led by their first replica (all topics).
  LeaderCounts leader_counts(const json& millrace);
  // What the restart gate weighs (rolling/restart_gate.h): every partition's
  // replicas, ISR and min.insync.replicas, and the controller quorum.
  RollFacts roll_facts(const json& millrace);
  // A preferred-leader election over every partition (ElectLeaders PREFERRED,
  // none named): "" or why it failed.
  std::string elect_preferred(const json& millrace);

 private:
  Informer& pods_;
  KafkaAddressing addressing_;
  const KafkaClientSecurity security_;
  client::Admin* admin_with(const std::string& bootstrap, const client::SecurityConfig& security);
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<client::Admin>> admins_;  // GUARDED_BY(mu_), by bootstrap list
};

}  // namespace millrace::op
