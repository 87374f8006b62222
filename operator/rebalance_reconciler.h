// Reconciles a Rebalance (millrace.io/v1alpha1): the I/O around the pure parts
// in operator/rebalance/ (spec, facts, machine, status). One pass, level-triggered:
//
//   read the object (a fresh GET) → parse the spec (bad: NotReady/InvalidSpec naming
//   the field) → find its Millrace and a ready broker → ask the brokers for the
//   facts (DescribeCluster, Metadata with internal topics, DescribeLogDirs of every
//   broker, ListPartitionReassignments, each broker's leader.replication.throttled.rate;
//   per-partition produce/fetch rates from each broker pod's /metrics, broker_rates.h:
//   a broker that does not answer is a warning, its partitions count without it)
//   and the cluster's Topics' spec.leaders.preferredRacks (topic_spec.h), for the planner
//   → read the stored plan (ConfigMap <name>-plan) → machine::step → apply what it
//   says, in an order an operator crash at any point survives:
//     1. store the plan (ConfigMap, owned by the Rebalance)
//     2. submit moves (AlterPartitionReassignments)
//     3. events
//     4. write the status (only when it changed)
//     5. remove the annotation acted on (after the status: a crash before it
//        repeats a request the new state already answers; the other order
//        could lose an approval)
// An operator restarted anywhere in this rebuilds from the status, the ConfigMap
// and ListPartitionReassignments and moves nothing twice (the machine skips moves
// in flight and counts moves done from the replica lists).
// Brokers unreachable or the Millrace missing: the state is kept, condition
// ClusterReachable=False says why, and the pass is retried with back-off.
// The machine's throttle outputs are not applied: the brokers have no dynamic
// broker configs yet (issue 21), so the throttle is whatever the brokers were
// started with, read back for the estimates.
#pragma once

#include <string>

#include "operator/broker_rates.h"
#include "operator/controller.h"
#include "operator/events.h"
#include "operator/informer.h"
#include "operator/kafka_access.h"
#include "operator/kube_client.h"
#include "operator/rebalance/facts.h"

namespace millrace::op {

class RebalanceReconciler {
 public:
  RebalanceReconciler(KubeClient& client, Informer& millraces, Informer& topics, KafkaAccess& kafka,
                      BrokerRates& rates, EventRecorder& events)
      : client_(client), millraces_(millraces), topics_(topics), kafka_(kafka), rates_(rates), events_(events) {}

  ReconcileResult reconcile(const std::string& ns, const std::string& name);

 private:
  // The brokers' facts, or why they could not be had.
  struct Gathered {
    rebalance::Facts facts;
    int64_t throttle = 0;
    std::string error;
  };
  Gathered gather(client::Admin& admin);
  std::string store_plan(const json& rebalance, const json& data);
  // Writes the status when it differs; *version (if given) becomes the object's
  // resourceVersion after the write.
  std::string write_status(const json& rebalance, const json& status, std::string* version = nullptr);
  std::string clear_annotations(const json& rebalance, const std::string& version);

  KubeClient& client_;
  Informer& millraces_;
  Informer& topics_;
  KafkaAccess& kafka_;
  BrokerRates& rates_;
  EventRecorder& events_;
};

}  // namespace millrace::op
