#include "operator/operator_metrics.h"

#include <prometheus/text_serializer.h>

namespace millrace::op {

OperatorMetrics::OperatorMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      reconcile_total_(prometheus::BuildCounter()
                           .Name("millrace_operator_reconcile_total")
                           .Help("Reconciles by kind and result (success|error).")
                           .Register(*registry_)),
      reconcile_errors_(prometheus::BuildCounter()
                            .Name("millrace_operator_reconcile_errors_total")
                            .Help("Reconciles that failed, by kind.")
                            .Register(*registry_)),
      reconcile_duration_(prometheus::BuildHistogram()
                              .Name("millrace_operator_reconcile_duration_seconds")
                              .Help("Time spent in one reconcile, by kind.")
                              .Register(*registry_)),
      api_writes_(prometheus::BuildCounter()
                      .Name("millrace_operator_api_writes_total")
                      .Help("Writes sent to the Kubernetes API server, by verb and resource.")
                      .Register(*registry_)),
      leader_(prometheus::BuildGauge()
                  .Name("millrace_operator_leader")
                  .Help("1 while this replica holds the leader Lease.")
                  .Register(*registry_)),
      relists_(prometheus::BuildCounter()
                   .Name("millrace_operator_watch_relists_total")
                   .Help("Lists repeated because a watch expired (410 Gone), by resource.")
                   .Register(*registry_)),
      scaler_lag_(prometheus::BuildGauge()
                      .Name("millrace_operator_scaler_lag")
                      .Help("Records a ConsumerGroupScaler's group is behind, at its last poll.")
                      .Register(*registry_)),
      scaler_lag_seconds_(prometheus::BuildGauge()
                              .Name("millrace_operator_scaler_lag_seconds")
                              .Help("Age of the group's oldest unconsumed record (its hottest partition's), at the last poll.")
                              .Register(*registry_)),
      scaler_desired_(prometheus::BuildGauge()
                          .Name("millrace_operator_scaler_desired_replicas")
                          .Help("Replicas a ConsumerGroupScaler asked of its target at its last poll.")
                          .Register(*registry_)) {
  leader_.Add({}).Set(0);
}

void OperatorMetrics::reconciled(const std::string& kind, bool ok, double seconds) {
  reconcile_total_.Add({{"kind", kind}, {"result", ok ? "success" : "error"}}).Increment();
  if (!ok) reconcile_errors_.Add({{"kind", kind}}).Increment();
  reconcile_duration_
      .Add({{"kind", kind}}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                                     5, 10, 30})
      .Observe(seconds);
}

void OperatorMetrics::api_write(const std::string& verb, const std::string& resource) {
  api_writes_.Add({{"verb", verb}, {"resource", resource}}).Increment();
}

void OperatorMetrics::scaler(const std::string& ns, const std::string& name, const std::string& group, int64_t lag,
                             double lag_seconds, int32_t desired) {
  prometheus::Labels l{{"namespace", ns}, {"scaler", name}, {"group", group}};
  scaler_lag_.Add(l).Set(static_cast<double>(lag));
  scaler_lag_seconds_.Add(l).Set(lag_seconds);
  scaler_desired_.Add(l).Set(desired);
}

void OperatorMetrics::forget_scaler(const std::string& ns, const std::string& name, const std::string& group) {
  prometheus::Labels l{{"namespace", ns}, {"scaler", name}, {"group", group}};
  for (auto* f : {&scaler_lag_, &scaler_lag_seconds_, &scaler_desired_}) f->Remove(&f->Add(l));
}

void OperatorMetrics::set_leader(bool leader) { leader_.Add({}).Set(leader ? 1 : 0); }

void OperatorMetrics::relisted(const std::string& resource) { relists_.Add({{"resource", resource}}).Increment(); }

std::string OperatorMetrics::text() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace millrace::op
