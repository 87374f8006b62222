// Reconciles a Millrace into the objects that run it (see render.h) and its
// status. Level-triggered and idempotent: each pass compares what it would
// apply with the informer caches and writes only what differs, so a pass over
// a converged Millrace makes no writes at all.
//
// Scale-down (scale_down.h): when spec.brokers is below the live StatefulSet's
// replicas, each broker that would go is asked (BrokerLoadFn) whether it still
// hosts partition replicas; the StatefulSet shrinks only past empty brokers and
// is otherwise held, with ScaleDownBlocked=True naming the broker, a Warning
// event when the block starts, and a look again every 10 seconds.
//
// Node ids (node_ids.h): read from the <name>-node-ids ConfigMap, allocated for
// every pod the StatefulSet has or will have, and applied before the StatefulSet;
// a record that cannot be trusted (a value that is not an id, two pods sharing
// one) stops the pass with Ready=False naming the ConfigMap key, writing nothing
// else. status.brokers lists each pod with its node id.
//
// One cluster of spec.brokers brokers with a static controller quorum chosen
// once (node_ids.h: the first 3 pods' ids, 1 for a cluster started smaller);
// the StatefulSet never shrinks below the pods holding a voter (Clustered
// reason VoterFloor says so). On scale (rebalance/on_scale.h): new brokers are
// balanced in by an add-brokers Rebalance once every broker is Ready; departing
// ones are drained by a remove-brokers Rebalance while the StatefulSet is held
// (ScaleDownBlocked says how the drain goes); status.balancedBrokers and
// status.scaleRebalance record it, so each happens once. status.leaders shows
// leader skew (leaders per broker, max - min, and partitions not led by their
// preferred replica), asked of the cluster when every broker is Ready; when
// some are not led by their preferred replica the operator runs a
// preferred-leader election (at most once a minute; the brokers also do so
// themselves, auto.leader.rebalance.enable), and a Rebalance's leader goal
// fixes the preferred order when it drifts.
//
// Rolling restarts (rolling/roll.h): the StatefulSet is OnDelete, so a new
// pod template (a config or image change) restarts nothing by itself. Each
// pass finds the pods on an old template (controller-revision-hash against
// the StatefulSet's updateRevision) or carrying kRestartAnnotation and, one
// at a time behind the restart gate, deletes one (its broker moves its
// leadership away in its controlled shutdown); the next waits until that one
// is Ready and caught up again, then a preferred-leader election hands its
// partitions back. status.roll (restarting, pending, message) keeps the roll
// across operator restarts; the RollingRestart condition and events say how
// it goes. No Kafka call is made while nothing needs a restart.
//
// ServiceMonitor (spec.metrics.serviceMonitor, with metrics.enabled): created
// only while the API server serves monitoring.coreos.com/v1 servicemonitors,
// asked through discovery (GET /apis/monitoring.coreos.com/v1, which every
// authenticated user may read: no RBAC on CRDs needed). While it is not served,
// condition ServiceMonitor=False/CRDNotInstalled says so, a Normal
// ServiceMonitorSkipped event is recorded once (when that condition appears, not
// on every pass) and the Millrace is looked at again every
// kServiceMonitorRecheck, so a ServiceMonitor follows an installed CRD within
// that time, without a restart. Once applied: ServiceMonitor=True/Applied. When
// it is no longer wanted, a ServiceMonitor this Millrace controls (owner
// reference uid) is deleted and the condition removed.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "operator/controller.h"
#include "operator/events.h"
#include "operator/informer.h"
#include "operator/kube_client.h"
#include "operator/render.h"
#include "operator/rolling/restart_gate.h"
#include "operator/scale_down.h"

namespace millrace::op {

struct MillraceCaches {
  Informer& millraces;
  Informer& config_maps;
  Informer& services;
  Informer& stateful_sets;
  Informer& pdbs;
  Informer& pods;
};

// How often a Millrace that wants a ServiceMonitor looks again for its CRD.
inline constexpr std::chrono::seconds kServiceMonitorRecheck{15};

// What one pass found out about the Millrace's ServiceMonitor.
struct MonitorState {
  bool wanted = false;  // spec: metrics.enabled and metrics.serviceMonitor
  bool served = false;  // the API server serves monitoring.coreos.com/v1 servicemonitors
  std::string error;    // discovery failed: `served` is unknown
};

// Partition replicas on broker `node_id`, the one recorded for `pod` (a Kafka call).
// What the scale-driven rebalance found and did in one pass.
struct ScaleOutcome {
  std::vector<int32_t> balanced;  // status.balancedBrokers
  std::string rebalance;          // status.scaleRebalance: the last one made
  std::string drain;              // "Rebalance <name> is <state> (...)" while one is wanted
  bool waiting = false;           // look again soon (brokers not Ready, or draining)
  std::string error;
};

// Partition leaders per broker, and how many partitions are not led by their
// preferred (first) replica, from the cluster's Metadata (internal topics too).
struct LeaderCounts {
  std::map<int32_t, int> leaders;
  int not_preferred = 0;
  std::string error;  // could not ask: the status keeps what it last knew
};
using LeaderCountsFn = std::function<LeaderCounts(const json& millrace)>;

using BrokerLoadFn = std::function<BrokerLoad(const json& millrace, const std::string& pod, int32_t node_id)>;

// What a rolling restart's gate weighs, asked of the cluster.
struct RollFacts {
  std::vector<rolling::PartitionState> partitions;
  rolling::QuorumState quorum;
  // Brokers in Metadata: registered and unfenced. A restarted broker whose pod
  // is Ready may not be yet, and its old ISR entries can outlive its restart.
  std::vector<int32_t> live;
  std::string error;  // could not ask: no broker is restarted meanwhile
};
using RollFactsFn = std::function<RollFacts(const json& millrace)>;
// A preferred-leader election over every partition: "" or why it failed.
using ElectPreferredFn = std::function<std::string(const json& millrace)>;

// How the reconciler asks the cluster itself (KafkaAccess); any may be empty
// when the operator is built without the Kafka client.
struct ClusterCalls {
  // Empty: every scale-down is blocked (the operator cannot tell a broker is empty).
  BrokerLoadFn broker_load;
  LeaderCountsFn leader_counts;
  // Empty: a rolling restart waits (the gate cannot be checked).
  RollFactsFn roll_facts;
  ElectPreferredFn elect_preferred;
};

// The restart annotation: a pod carrying it is restarted by the next roll
// (Strimzi's strimzi.io/manual-rolling-update), as one on an old template is.
inline constexpr const char* kRestartAnnotation = "millrace.io/restart";

// What the rolling restart found and did in one pass (status.roll).
struct RollOutcome {
  json status;             // status.roll; null when nothing is rolling
  std::string reason, message;  // the RollingRestart condition; reason "" = none to set
  bool waiting = false;    // look again soon
};

class MillraceReconciler {
 public:
  MillraceReconciler(KubeClient& client, MillraceCaches caches, EventRecorder& events, ClusterCalls calls)
      : client_(client), caches_(caches), events_(events), calls_(std::move(calls)) {}

  ReconcileResult reconcile(const std::string& ns, const std::string& name);

 private:
  // Each step returns an error message or "".
  std::string ensure(const json& desired, Informer* cache, const json& owner);
  std::string ensure_objects(const MillraceSpec& spec, const json& owner, const MonitorState& monitor,
                             const NodeIds& ids);
  MonitorState service_monitor_state(const MillraceSpec& spec);
  std::string prune_service_monitor(const MillraceSpec& spec, const json& owner);
  int live_replicas(const MillraceSpec& spec);  // the StatefulSet's spec.replicas, -1 when there is none
  ScaleDownPlan plan_replicas(const json& owner, const MillraceSpec& spec, int wanted, int live, const NodeIds& ids);
  RollOutcome rolling_restart(const json& owner, const MillraceSpec& spec, const NodeIds& ids);
  ScaleOutcome scale_rebalance(const json& owner, const MillraceSpec& spec, const NodeIds& ids, int wanted, int live,
                               const ScaleDownPlan& plan);
  json compute_status(const json& owner, const MillraceSpec& spec, const ScaleDownPlan& plan,
                      const MonitorState& monitor, const NodeIds& node_ids, const ScaleOutcome& scale,
                      const RollOutcome& roll, const std::string& error, bool* ready);
  std::string write_status(const json& owner, const json& status);

  KubeClient& client_;
  MillraceCaches caches_;
  EventRecorder& events_;
  ClusterCalls calls_;
  // When each Millrace last had a preferred-leader election run for it (by
  // namespace/name): at most one a minute for drift; one after each restart.
  std::map<std::string, std::chrono::steady_clock::time_point> elected_;
};

}  // namespace millrace::op
