// Reconciles a Topic through the Kafka admin API of its Millrace cluster
// (client/admin.h), after Strimzi's topic operator:
//   create when missing (an existing topic is adopted), grow partitions, diff
//   spec.config into IncrementalAlterConfigs SET/DELETE; refuse to shrink or to
//   change the replication factor with Ready=False and a reason; a finalizer
//   deletes the Kafka topic when deletionPolicy is Delete, and lets go when the
//   Millrace is gone; annotation millrace.io/managed: "false" stops management;
//   two Topics naming one Kafka topic: the older owns it, the other gets
//   Ready=False/NameConflict. Status is written once per pass, only on change.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "client/admin.h"
#include "operator/controller.h"
#include "operator/events.h"
#include "operator/informer.h"
#include "operator/kube_client.h"

namespace millrace::op {

inline constexpr const char* kTopicFinalizer = "millrace.io/topic";
inline constexpr const char* kManagedAnnotation = "millrace.io/managed";

// How the operator reaches a cluster's brokers: the bootstrap Service (in a
// cluster) or the ready pods' IPs and Kafka ports (test cluster, pod networks).
enum class KafkaAddressing { kService, kPodIp };

class TopicReconciler {
 public:
  TopicReconciler(KubeClient& client, Informer& topics, Informer& millraces, Informer& pods, EventRecorder& events,
                  KafkaAddressing addressing)
      : client_(client), topics_(topics), millraces_(millraces), pods_(pods), events_(events),
        addressing_(addressing) {}

  ReconcileResult reconcile(const std::string& ns, const std::string& name);

 private:
  struct Outcome {
    std::string status = "True", reason = "TopicReady", message;
    bool retry = false;  // transient (broker unreachable): back off and try again
  };
  Outcome sync_topic(const json& topic, const std::string& kafka_name, client::Admin& admin, json* status);
  std::string bootstrap(const json& millrace);
  client::Admin* admin_for(const std::string& bootstrap);
  std::string finalize(const json& topic, const std::string& kafka_name);
  std::string set_finalizer(const json& topic, bool present);
  std::optional<std::string> conflicting_owner(const json& topic, const std::string& kafka_name);
  std::string write_status(const json& topic, const json& status);

  KubeClient& client_;
  Informer& topics_;
  Informer& millraces_;
  Informer& pods_;
  EventRecorder& events_;
  KafkaAddressing addressing_;
  std::mutex admins_mu_;
  std::map<std::string, std::unique_ptr<client::Admin>> admins_;  // by bootstrap list
};

std::string kafka_topic_name(const json& topic);

}  // namespace millrace::op
