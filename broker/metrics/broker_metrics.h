// The broker's Prometheus metrics. Names are a contract with the dashboards
// and alerts (docs/observability): change none without changing those.
//
//   millrace_requests_total{api}                   counter
//   millrace_request_errors_total{api,error}       counter
//   millrace_request_duration_seconds{api}         histogram
//   millrace_topic_{bytes,records}_{in,out}_total{topic}  counters
//   millrace_connections                           gauge
//   millrace_connections_accepted_total            counter
//   millrace_connections_refused_total{limit}      counter (max.connections, max.connections.per.ip)
//   millrace_request_memory_bytes                  gauge (queued.max.request.bytes in use)
//   millrace_request_memory_waits_total            counter
//   millrace_sendfile_warmups_total                counter
//   millrace_tls_handshake_failures_total          counter
//   millrace_authorization_denials_total{api,resource} counter
//   millrace_sasl_authentication_failures_total    counter
//   millrace_fetch_waiting                         gauge
//   millrace_fetch_follower_reads_total            counter (consumer partition reads served with records as a follower)
//   millrace_fetch_preferred_read_replica_total    counter (partitions the leader sent to a follower, KIP-392)
//   millrace_broker_ready                          gauge 0/1
//   millrace_build_info{version}                   gauge 1
// and, computed at scrape time by providers (see ScrapeCollector):
//   millrace_partition_{log_end_offset,high_watermark,log_start_offset,size_bytes}{topic,partition}
//   millrace_partitions{state}, millrace_consumer_group_lag{group,topic,partition},
//   millrace_consumer_group_members{group}, millrace_process_resident_memory_bytes,
//   millrace_log_dir_{used,free,capacity}_bytes{dir}, millrace_log_dir_offline{dir} (0/1),
//   millrace_fetch_sessions, millrace_fetch_session_partitions (gauges),
//   millrace_fetch_{sessions_created,session_evictions,incremental_requests,sessions_declined}_total
//
// Thread-safety: every method may be called from any thread (prometheus-cpp
// families lock internally; per-API series are created once up front).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace millrace::broker {

class BrokerMetrics {
 public:
  static constexpr int kMaxApiKey = 80;

  // api_name(key) gives the label for each API key (empty = not served).
  BrokerMetrics(std::string_view version, std::function<std::string_view(int16_t)> api_name);

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  void observe_request(int16_t api_key, double seconds);
  void count_error(int16_t api_key, std::string_view error_name);
  // By topic and by partition: the partition series are the load facts a
  // rebalance planner needs (produce and fetch bytes per partition replica,
  // as Redpanda's per-partition metrics), the topic series what dashboards sum.
  void bytes_in(const std::string& topic, int32_t partition, uint64_t bytes, uint64_t records);
  void bytes_out(const std::string& topic, int32_t partition, uint64_t bytes, uint64_t records);

  prometheus::Gauge& connections() { return *connections_; }
  prometheus::Counter& connections_accepted() { return *accepted_; }
  prometheus::Gauge& fetch_waiting() { return *fetch_waiting_; }
  prometheus::Counter& fetch_follower_reads() { return *follower_reads_; }
  prometheus::Counter& fetch_preferred_read_replica() { return *preferred_read_replica_; }
  prometheus::Counter& connections_refused(bool per_ip) { return per_ip ? *refused_per_ip_ : *refused_total_; }
  prometheus::Counter& request_memory_waits() { return *budget_waits_; }
  prometheus::Gauge& request_memory_bytes() { return *budget_in_use_; }
  prometheus::Counter& sendfile_warmups() { return *sendfile_warmups_; }
  prometheus::Counter& tls_handshake_failures() { return *tls_handshake_failures_; }
  prometheus::Counter& authorization_denials(std::string_view api, std::string_view resource) {
    return authorization_denials_->Add({{"api", std::string(api)}, {"resource", std::string(resource)}});
  }
  prometheus::Counter& sasl_authentication_failures() { return *sasl_authentication_failures_; }
  void set_ready(bool ready) { ready_->Set(ready ? 1 : 0); }

  // Providers run at scrape time and append whole families (gauges).
  using Provider = std::function<void(std::vector<prometheus::MetricFamily>&)>;
  void add_provider(Provider p);

  // Everything, rendered in the Prometheus text format.
  std::string render() const;

 private:
  struct ApiSeries {
    prometheus::Counter* requests = nullptr;
    prometheus::Histogram* duration = nullptr;
    std::string name;
  };
  struct TopicSeries {
    prometheus::Counter* bytes = nullptr;
    prometheus::Counter* records = nullptr;
  };

  std::shared_ptr<prometheus::Registry> registry_;
  std::array<ApiSeries, kMaxApiKey> apis_{};
  prometheus::Family<prometheus::Counter>* errors_;
  prometheus::Family<prometheus::Counter>* bytes_in_;
  prometheus::Family<prometheus::Counter>* bytes_out_;
  prometheus::Family<prometheus::Counter>* records_in_;
  prometheus::Family<prometheus::Counter>* records_out_;
  prometheus::Family<prometheus::Counter>* partition_bytes_in_;
  prometheus::Family<prometheus::Counter>* partition_bytes_out_;
  prometheus::Gauge* connections_;
  prometheus::Counter* accepted_;
  prometheus::Gauge* fetch_waiting_;
  prometheus::Counter* follower_reads_;
  prometheus::Counter* preferred_read_replica_;
  prometheus::Counter* refused_total_;
  prometheus::Counter* refused_per_ip_;
  prometheus::Counter* budget_waits_;
  prometheus::Gauge* budget_in_use_;
  prometheus::Counter* sendfile_warmups_;
  prometheus::Counter* tls_handshake_failures_;
  prometheus::Family<prometheus::Counter>* authorization_denials_;
  prometheus::Counter* sasl_authentication_failures_;
  prometheus::Gauge* ready_;

  mutable std::mutex providers_mu_;
  std::vector<Provider> providers_;  // GUARDED_BY(providers_mu_)
};

// Helpers for providers.
prometheus::MetricFamily gauge_family(std::string name, std::string help);
void add_gauge(prometheus::MetricFamily& f, std::vector<std::pair<std::string, std::string>> labels, double v);

// Resident set size of this process from /proc/self/statm (0 if unreadable).
double process_resident_bytes();

}  // namespace millrace::broker
