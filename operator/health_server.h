// The operator's HTTP endpoints (cpprestsdk listener): /metrics (Prometheus
// text), /healthz (the process is alive), /readyz (the process is healthy, leader
// or standby: see readiness.h; 503 with the reason otherwise).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "operator/readiness.h"

namespace millrace::op {

class OperatorMetrics;

class HealthServer {
 public:
  // bind: "host:port", e.g. "0.0.0.0:8080". Returns an error message or "".
  HealthServer(std::string bind, const OperatorMetrics& metrics, std::function<ReadinessVerdict()> ready);
  ~HealthServer();
  std::string start();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace millrace::op
