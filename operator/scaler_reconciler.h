// Reconciles a ConsumerGroupScaler (millrace.io/v1alpha1, short name cgs): polls
// the group's lag from Kafka every spec.pollIntervalSeconds, asks the scaling
// rule (scaling/rule.h) for the replicas, and writes them to the target's scale
// subresource (any kind that has one: Deployment, StatefulSet, a custom one,
// found through discovery). KEDA's job, without KEDA and without its faults
// (../shared/OPERATOR.md).
//
// A poll: ListGroups/DescribeGroup (state, members' assignments), OffsetFetch
// (commits), Metadata (partitions), ListOffsets earliest and latest, and for
// partitions with lag the timestamp of the record at the group's position (a
// group-less fetch of one record), which gives the lag in seconds. Produce and
// consume rates are the offset sums' changes between two polls.
//
// Holding: while the Millrace is not Ready, or offsets cannot be read, the last
// replicas are kept (never zero on an error) and Holding=True says why.
// Annotation millrace.io/paused: "true" stops scaling (Holding=True/Paused).
// Status: observedGeneration, currentReplicas, desiredReplicas, totalLag,
// lagSeconds, hottestPartition, produceRate, consumeRate, lastScaleTime,
// lastActiveTime, conditions Ready / Active / ScalingLimited / Holding. Every
// scale step is a Normal event naming the numbers behind it. Written only on
// change: a converged scaler's pass writes nothing.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "operator/controller.h"
#include "operator/events.h"
#include "operator/informer.h"
#include "operator/kafka_access.h"
#include "operator/kube_client.h"
#include "operator/operator_metrics.h"
#include "operator/scaling/rule.h"
#include "operator/scaling/scaler_spec.h"

namespace millrace::op {

class ScalerReconciler {
 public:
  ScalerReconciler(KubeClient& client, Informer& scalers, Informer& millraces, KafkaAccess& kafka,
                   EventRecorder& events, OperatorMetrics& metrics)
      : client_(client), scalers_(scalers), millraces_(millraces), kafka_(kafka), events_(events), metrics_(metrics) {}

  ReconcileResult reconcile(const std::string& ns, const std::string& name);

 private:
  // What the previous poll of a scaler saw, for rates; and its rule's history.
  struct Memory {
    scaling::Autoscaler autoscaler;
    int64_t at_ms = 0, end_sum = -1, committed_sum = -1;
    std::string group;  // the metrics' label, to forget them
  };
  scaling::Observation observe(const json& scaler, const scaling::ParsedScaler& spec, Memory& memory, int64_t now_ms,
                               std::string* group_state);
  std::string write_status(const json& scaler, const json& status);

  KubeClient& client_;
  Informer& scalers_;
  Informer& millraces_;
  KafkaAccess& kafka_;
  EventRecorder& events_;
  OperatorMetrics& metrics_;
  std::mutex mu_;
  std::map<std::string, Memory> memory_;  // by namespace/name (uid-checked)
};

}  // namespace millrace::op
