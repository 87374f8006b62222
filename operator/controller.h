// A controller: one work queue of "namespace/name" keys and worker threads that
// call a reconcile function for each, recording metrics, re-queueing failures
// with exponential backoff and successes that ask for a later look.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "operator/operator_metrics.h"
#include "operator/workqueue.h"

namespace millrace::op {

struct ReconcileResult {
  std::string error;                                   // non-empty: failed, retry with backoff
  std::optional<std::chrono::milliseconds> requeue_after;  // success, but look again later
  static ReconcileResult done() { return {}; }
  static ReconcileResult failed(std::string e) { return {std::move(e), std::nullopt}; }
  static ReconcileResult after(std::chrono::milliseconds d) { return {"", d}; }
};

using ReconcileFn = std::function<ReconcileResult(const std::string& ns, const std::string& name)>;

class Controller {
 public:
  Controller(std::string kind, ReconcileFn fn, OperatorMetrics& metrics)
      : kind_(std::move(kind)), fn_(std::move(fn)), metrics_(metrics) {}
  ~Controller();
  void enqueue(const std::string& ns, const std::string& name) { queue_.add(ns + "/" + name); }
  void start(int workers);
  void stop();

 private:
  void work();
  std::string kind_;
  ReconcileFn fn_;
  OperatorMetrics& metrics_;
  WorkQueue queue_;
  std::vector<std::thread> workers_;
};

}  // namespace millrace::op
