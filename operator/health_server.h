// The operator's HTTP endpoints (cpprestsdk listener): /metrics (Prometheus
// text), /healthz (the process is alive), /readyz (caches synced; 503 until then).
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace millrace::op {

class OperatorMetrics;

class HealthServer {
 public:
  // bind: "host:port", e.g. "0.0.0.0:8080". Returns an error message or "".
  HealthServer(std::string bind, const OperatorMetrics& metrics, std::function<bool()> ready);
  ~HealthServer();
  std::string start();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace millrace::op
