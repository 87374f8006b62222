// Reconciles a Millrace into the objects that run it (see render.h) and its
// status. Level-triggered and idempotent: each pass compares what it would
// apply with the informer caches and writes only what differs, so a pass over
// a converged Millrace makes no writes at all.
#pragma once

#include <atomic>
#include <string>

#include "operator/controller.h"
#include "operator/events.h"
#include "operator/informer.h"
#include "operator/kube_client.h"
#include "operator/render.h"

namespace millrace::op {

struct MillraceCaches {
  Informer& millraces;
  Informer& config_maps;
  Informer& services;
  Informer& stateful_sets;
  Informer& pdbs;
  Informer& pods;
};

class MillraceReconciler {
 public:
  MillraceReconciler(KubeClient& client, MillraceCaches caches, EventRecorder& events)
      : client_(client), caches_(caches), events_(events) {}

  ReconcileResult reconcile(const std::string& ns, const std::string& name);

 private:
  // Each step returns an error message or "".
  std::string ensure(const json& desired, Informer* cache, const json& owner);
  std::string ensure_objects(const MillraceSpec& spec, const json& owner);
  json compute_status(const json& owner, const MillraceSpec& spec, const std::string& error, bool* ready);
  std::string write_status(const json& owner, const json& status);
  bool service_monitor_crd();

  KubeClient& client_;
  MillraceCaches caches_;
  EventRecorder& events_;
};

}  // namespace millrace::op
