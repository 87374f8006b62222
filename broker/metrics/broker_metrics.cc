#include "broker/metrics/broker_metrics.h"

#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <fstream>

namespace millrace::broker {

namespace {
const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1,    0.25,  0.5,    1.0,   2.5,   5.0,  10.0};
  return b;
}
}  // namespace

BrokerMetrics::BrokerMetrics(std::string_view version, std::function<std::string_view(int16_t)> api_name)
    : registry_(std::make_shared<prometheus::Registry>()) {
  auto& requests = prometheus::BuildCounter()
                       .Name("millrace_requests_total")
                       .Help("Requests received, by Kafka API")
                       .Register(*registry_);
  auto& duration = prometheus::BuildHistogram()
                       .Name("millrace_request_duration_seconds")
                       .Help("Time from request read to response queued, by Kafka API")
                       .Register(*registry_);
  for (int k = 0; k < kMaxApiKey; ++k) {
    std::string_view name = api_name(static_cast<int16_t>(k));
    if (name.empty()) continue;
    apis_[k].name = std::string(name);
    apis_[k].requests = &requests.Add({{"api", apis_[k].name}});
    apis_[k].duration = &duration.Add({{"api", apis_[k].name}}, latency_buckets());
  }
  errors_ = &prometheus::BuildCounter()
                 .Name("millrace_request_errors_total")
                 .Help("Error codes returned, by Kafka API and error name")
                 .Register(*registry_);
  bytes_in_ = &prometheus::BuildCounter()
                   .Name("millrace_topic_bytes_in_total")
                   .Help("Record batch bytes appended, by topic")
                   .Register(*registry_);
  bytes_out_ = &prometheus::BuildCounter()
                    .Name("millrace_topic_bytes_out_total")
                    .Help("Record batch bytes sent to consumers, by topic")
                    .Register(*registry_);
  records_in_ = &prometheus::BuildCounter()
                     .Name("millrace_topic_records_in_total")
                     .Help("Records appended, by topic")
                     .Register(*registry_);
  records_out_ = &prometheus::BuildCounter()
                      .Name("millrace_topic_records_out_total")
                      .Help("Records sent to consumers (estimated from batch headers), by topic")
                      .Register(*registry_);
  partition_bytes_in_ = &prometheus::BuildCounter()
                             .Name("millrace_partition_bytes_in_total")
                             .Help("Record batch bytes produced to the partitions this broker leads, by topic and partition")
                             .Register(*registry_);
  partition_bytes_out_ = &prometheus::BuildCounter()
                              .Name("millrace_partition_bytes_out_total")
                              .Help("Record batch bytes fetched by consumers from this broker, by topic and partition")
                              .Register(*registry_);
  connections_ = &prometheus::BuildGauge()
                      .Name("millrace_connections")
                      .Help("Open client connections")
                      .Register(*registry_)
                      .Add({});
  accepted_ = &prometheus::BuildCounter()
                   .Name("millrace_connections_accepted_total")
                   .Help("Client connections accepted")
                   .Register(*registry_)
                   .Add({});
  auto& refused = prometheus::BuildCounter()
                      .Name("millrace_connections_refused_total")
                      .Help("Connections closed at accept by max.connections or max.connections.per.ip, by limit")
                      .Register(*registry_);
  refused_total_ = &refused.Add({{"limit", "max.connections"}});
  refused_per_ip_ = &refused.Add({{"limit", "max.connections.per.ip"}});
  budget_waits_ = &prometheus::BuildCounter()
                       .Name("millrace_request_memory_waits_total")
                       .Help("Requests whose body waited for the queued.max.request.bytes budget")
                       .Register(*registry_)
                       .Add({});
  budget_in_use_ = &prometheus::BuildGauge()
                        .Name("millrace_request_memory_bytes")
                        .Help("Request bytes in flight held from the queued.max.request.bytes budget")
                        .Register(*registry_)
                        .Add({});
  sendfile_warmups_ = &prometheus::BuildCounter()
                           .Name("millrace_sendfile_warmups_total")
                           .Help("Fetch file ranges read into the page cache on the blocking pool before sendfile")
                           .Register(*registry_)
                           .Add({});
  tls_handshake_failures_ = &prometheus::BuildCounter()
                                .Name("millrace_tls_handshake_failures_total")
                                .Help("TLS handshakes refused or failed (untrusted or missing client certificate, "
                                      "plaintext to a TLS listener, timeouts)")
                                .Register(*registry_)
                                .Add({});
  authorization_denials_ = &prometheus::BuildCounter()
                               .Name("millrace_authorization_denials_total")
                               .Help("Requests (or parts of them) the authorizer denied, by API and resource type")
                               .Register(*registry_);
  sasl_authentication_failures_ = &prometheus::BuildCounter()
                                      .Name("millrace_sasl_authentication_failures_total")
                                      .Help("SASL authentications refused (wrong password, unknown user, "
                                            "malformed exchange)")
                                      .Register(*registry_)
                                      .Add({});
  follower_reads_ = &prometheus::BuildCounter()
                        .Name("millrace_fetch_follower_reads_total")
                        .Help("Consumer Fetch partition reads this broker served with records as a follower (KIP-392)")
                        .Register(*registry_)
                        .Add({});
  preferred_read_replica_ = &prometheus::BuildCounter()
                                .Name("millrace_fetch_preferred_read_replica_total")
                                .Help("Fetch partitions this leader answered with a preferred read replica in the "
                                      "consumer's rack instead of records (replica.selector.class)")
                                .Register(*registry_)
                                .Add({});
  fetch_waiting_ = &prometheus::BuildGauge()
                        .Name("millrace_fetch_waiting")
                        .Help("Fetch requests parked in long poll")
                        .Register(*registry_)
                        .Add({});
  ready_ = &prometheus::BuildGauge()
                .Name("millrace_broker_ready")
                .Help("1 once logs are recovered and listeners serve")
                .Register(*registry_)
                .Add({});
  prometheus::BuildGauge()
      .Name("millrace_build_info")
      .Help("Build information; value is always 1")
      .Register(*registry_)
      .Add({{"version", std::string(version)}})
      .Set(1);
}

void BrokerMetrics::observe_request(int16_t api_key, double seconds) {
  if (api_key < 0 || api_key >= kMaxApiKey || !apis_[api_key].requests) return;
  apis_[api_key].requests->Increment();
  apis_[api_key].duration->Observe(seconds);
}

void BrokerMetrics::count_error(int16_t api_key, std::string_view error_name) {
  if (api_key < 0 || api_key >= kMaxApiKey || apis_[api_key].name.empty()) return;
  errors_->Add({{"api", apis_[api_key].name}, {"error", std::string(error_name)}}).Increment();
}

void BrokerMetrics::bytes_in(const std::string& topic, int32_t partition, uint64_t bytes, uint64_t records) {
  bytes_in_->Add({{"topic", topic}}).Increment(static_cast<double>(bytes));
  records_in_->Add({{"topic", topic}}).Increment(static_cast<double>(records));
  partition_bytes_in_->Add({{"topic", topic}, {"partition", std::to_string(partition)}})
      .Increment(static_cast<double>(bytes));
}

void BrokerMetrics::bytes_out(const std::string& topic, int32_t partition, uint64_t bytes, uint64_t records) {
  bytes_out_->Add({{"topic", topic}}).Increment(static_cast<double>(bytes));
  records_out_->Add({{"topic", topic}}).Increment(static_cast<double>(records));
  partition_bytes_out_->Add({{"topic", topic}, {"partition", std::to_string(partition)}})
      .Increment(static_cast<double>(bytes));
}

void BrokerMetrics::add_provider(Provider p) {
  std::lock_guard lock(providers_mu_);
  providers_.push_back(std::move(p));
}

std::string BrokerMetrics::render() const {
  auto families = registry_->Collect();
  {
    std::lock_guard lock(providers_mu_);
    for (const auto& p : providers_) p(families);
  }
  auto f = gauge_family("millrace_process_resident_memory_bytes", "Resident set size of the broker process");
  add_gauge(f, {}, process_resident_bytes());
  families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

prometheus::MetricFamily gauge_family(std::string name, std::string help) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Gauge;
  return f;
}

void add_gauge(prometheus::MetricFamily& f, std::vector<std::pair<std::string, std::string>> labels, double v) {
  prometheus::ClientMetric m;
  for (auto& [k, val] : labels) m.label.push_back({std::move(k), std::move(val)});
  m.gauge.value = v;
  f.metric.push_back(std::move(m));
}

double process_resident_bytes() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace millrace::broker
