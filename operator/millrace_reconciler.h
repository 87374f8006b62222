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
// preferred replica), asked of the cluster when every broker is Ready; the
// brokers move leadership back to preferred replicas themselves
// (auto.leader.rebalance.enable), and a Rebalance's leader goal fixes the
// preferred order when it drifts.
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

class MillraceReconciler {
 public:
  // Without broker_load (operator built without the Kafka client) every
  // scale-down is blocked: the operator cannot tell that a broker is empty.
  MillraceReconciler(KubeClient& client, MillraceCaches caches, EventRecorder& events, BrokerLoadFn broker_load,
                     LeaderCountsFn leader_counts = {})
      : client_(client),
        caches_(caches),
        events_(events),
        broker_load_(std::move(broker_load)),
        leader_counts_(std::move(leader_counts)) {}

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
  ScaleOutcome scale_rebalance(const json& owner, const MillraceSpec& spec, const NodeIds& ids, int wanted, int live,
                               const ScaleDownPlan& plan);
  json compute_status(const json& owner, const MillraceSpec& spec, const ScaleDownPlan& plan,
                      const MonitorState& monitor, const NodeIds& node_ids, const ScaleOutcome& scale,
                      const std::string& error, bool* ready);
  std::string write_status(const json& owner, const json& status);

  KubeClient& client_;
  MillraceCaches caches_;
  EventRecorder& events_;
  BrokerLoadFn broker_load_;
  LeaderCountsFn leader_counts_;
};

}  // namespace millrace::op
