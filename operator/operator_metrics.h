// The operator's own metrics (prometheus-cpp). Names are fixed; dashboards and
// alerts use them:
//   millrace_operator_reconcile_total{kind,result}      result: success|error
//   millrace_operator_reconcile_errors_total{kind}
//   millrace_operator_reconcile_duration_seconds{kind}  histogram
//   millrace_operator_api_writes_total{verb,resource}   every write to the API server
//   millrace_operator_leader                            1 while holding the Lease
//   millrace_operator_watch_relists_total{resource}     relists after 410 Gone
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
  std::string text() const;  // the exposition format, for /metrics

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Family<prometheus::Counter>& api_writes_;
  prometheus::Family<prometheus::Gauge>& leader_;
  prometheus::Family<prometheus::Counter>& relists_;
};

}  // namespace millrace::op
