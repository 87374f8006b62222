// Reconciles a Topic through the Kafka admin API of its Millrace cluster
// (client/admin.h), after Strimzi's topic operator:
//   create when missing (an existing topic is adopted), grow partitions, diff
//   spec.config into IncrementalAlterConfigs SET/DELETE; refuse to shrink or to
//   change the replication factor with Ready=False and a reason; a finalizer
//   deletes the Kafka topic when deletionPolicy is Delete, and lets go when the
//   Millrace is gone; annotation millrace.io/managed: "false" stops management;
//   two Topics naming one Kafka topic: the older owns it, the other gets
//   Ready=False/NameConflict; a bad spec.leaders.preferredRacks (topic_spec.h)
//   gets Ready=False/InvalidSpec naming the field and no change in Kafka.
//   Status is written once per pass, only on change.
#pragma once

#include <optional>
#include <string>

#include "client/admin.h"
#include "operator/controller.h"
#include "operator/events.h"
#include "operator/informer.h"
#include "operator/kafka_access.h"
#include "operator/kube_client.h"
#include "operator/topic_spec.h"

namespace millrace::op {

inline constexpr const char* kTopicFinalizer = "millrace.io/topic";
inline constexpr const char* kManagedAnnotation = "millrace.io/managed";

class TopicReconciler {
 public:
  TopicReconciler(KubeClient& client, Informer& topics, Informer& millraces, KafkaAccess& kafka, EventRecorder& events)
      : client_(client), topics_(topics), millraces_(millraces), kafka_(kafka), events_(events) {}

  ReconcileResult reconcile(const std::string& ns, const std::string& name);

 private:
  struct Outcome {
    std::string status = "True", reason = "TopicReady", message;
    bool retry = false;  // transient (broker unreachable): back off and try again
  };
  Outcome sync_topic(const json& topic, const std::string& kafka_name, client::Admin& admin, json* status);
  std::string finalize(const json& topic, const std::string& kafka_name);
  std::string set_finalizer(const json& topic, bool present);
  std::optional<std::string> conflicting_owner(const json& topic, const std::string& kafka_name);
  std::string write_status(const json& topic, const json& status);

  KubeClient& client_;
  Informer& topics_;
  Informer& millraces_;
  KafkaAccess& kafka_;
  EventRecorder& events_;
};

}  // namespace millrace::op
