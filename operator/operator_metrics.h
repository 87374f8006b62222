// The operator's own metrics (prometheus-cpp). Names are fixed; dashboards and
// alerts use them:
//   millrace_operator_reconcile_total{kind,result}      result: success|error
//   millrace_operator_reconcile_errors_total{kind}
//   millrace_operator_reconcile_duration_seconds{kind}  histogram
//   millrace_operator_api_writes_total{verb,resource}   every write to the API server
//   millrace_operator_leader                            1 while holding the Lease
//   millrace_operator_watch_relists_total{resource}     relists after 410 Gone
//   millrace_operator_scaler_lag{namespace,scaler,group}          records behind (ConsumerGroupScaler)
//   millrace_operator_scaler_lag_seconds{namespace,scaler,group}  age of the oldest unconsumed record
//   millrace_operator_scaler_desired_replicas{namespace,scaler,group}
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace millrace::op {

class OperatorMetrics {
 public:
  OperatorMetrics();
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  void reconciled(const std::string& kind, bool ok, double seconds);
  void api_write(const std::string& verb, const std::string& resource);
  void set_leader(bool leader);
  void relisted(const std::string& resource);
  // A ConsumerGroupScaler's last poll; forget() when the scaler is gone.
  void scaler(const std::string& ns, const std::string& name, const std::string& group, int64_t lag,
              double lag_seconds, int32_t desired);
  void forget_scaler(const std::string& ns, const std::string& name, const std::string& group);
  std::string text() const;  // the exposition format, for /metrics

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Family<prometheus::Counter>& api_writes_;
  prometheus::Family<prometheus::Gauge>& leader_;
  prometheus::Family<prometheus::Counter>& relists_;
  prometheus::Family<prometheus::Gauge>& scaler_lag_;
  prometheus::Family<prometheus::Gauge>& scaler_lag_seconds_;
  prometheus::Family<prometheus::Gauge>& scaler_desired_;
};

}  // namespace millrace::op
