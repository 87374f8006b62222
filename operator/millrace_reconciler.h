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
#pragma once

#include <atomic>
#include <functional>
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

// Partition replicas on the broker of pod <millrace>-<ordinal> (a Kafka call).
using BrokerLoadFn = std::function<BrokerLoad(const json& millrace, int ordinal)>;

class MillraceReconciler {
 public:
  // Without broker_load (operator built without the Kafka client) every
  // scale-down is blocked: the operator cannot tell that a broker is empty.
  MillraceReconciler(KubeClient& client, MillraceCaches caches, EventRecorder& events, BrokerLoadFn broker_load)
      : client_(client), caches_(caches), events_(events), broker_load_(std::move(broker_load)) {}

  ReconcileResult reconcile(const std::string& ns, const std::string& name);

 private:
  // Each step returns an error message or "".
  std::string ensure(const json& desired, Informer* cache, const json& owner);
  std::string ensure_objects(const MillraceSpec& spec, const json& owner);
  ScaleDownPlan plan_replicas(const json& owner, const MillraceSpec& spec);
  json compute_status(const json& owner, const MillraceSpec& spec, const ScaleDownPlan& plan, const std::string& error,
                      bool* ready);
  std::string write_status(const json& owner, const json& status);
  bool service_monitor_crd();

  KubeClient& client_;
  MillraceCaches caches_;
  EventRecorder& events_;
  BrokerLoadFn broker_load_;
};

}  // namespace millrace::op
