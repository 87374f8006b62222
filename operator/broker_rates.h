// The brokers' per-partition produce and fetch rates, for the Rebalance
// planner's load goal: each ready broker pod of a Millrace serves Prometheus
// counters at http://<pod>:<admin port>/metrics; two samples of one broker a
// few seconds apart make its rates (rebalance/partition_rates.h, pure).
//
// The last sample of every broker is kept, so a pass at least kMinGap after
// the previous one scrapes each broker once and rates the interval between;
// a broker without a usable sample (first pass, or older than kMaxAge) is
// scraped again after kSecondSample, which that pass waits for (once, for all
// such brokers). A pass sooner than kMinGap reuses the rates it has. A broker
// that does not answer within kTimeout, answers with an error, or serves text
// that does not parse gives a warning naming its pod and address, never a
// failure: its partitions count with the other brokers' rates, or 0.
//
// Addressing follows KafkaAccess: kService uses the pod's DNS name under the
// headless Service and spec's admin port; kPodIp the pod's IP and the port it
// announces in millrace.io/admin-port (the test cluster). Thread-safe; a call
// may block for up to 2 x kTimeout per broker plus kSecondSample.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "operator/informer.h"
#include "operator/kafka_access.h"
#include "operator/rebalance/partition_rates.h"
#include "operator/render.h"

namespace millrace::op {

// host:port of a broker pod's admin listener; "" when it has no address yet.
std::string admin_address(const json& pod, const MillraceSpec& spec, KafkaAddressing addressing);

class BrokerRates {
 public:
  static constexpr auto kTimeout = std::chrono::seconds(3);
  static constexpr auto kMinGap = std::chrono::seconds(2);
  static constexpr auto kSecondSample = std::chrono::seconds(3);
  static constexpr auto kMaxAge = std::chrono::minutes(10);

  BrokerRates(Informer& pods, KafkaAddressing addressing) : pods_(pods), addressing_(addressing) {}

  struct Result {
    std::vector<rebalance::PartitionCounters> rates;  // one per broker that answered
    std::vector<std::string> warnings;
  };
  Result sample(const json& millrace);

 private:
  struct Entry {
    std::optional<rebalance::CounterSample> last;
    std::optional<rebalance::PartitionCounters> rates;  // from the last two samples
  };
  // The broker's counters now, or the error (naming what failed).
  std::optional<rebalance::CounterSample> scrape(const std::string& address, std::string* error);

  Informer& pods_;
  KafkaAddressing addressing_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;  // GUARDED_BY(mu_), by address
};

}  // namespace millrace::op
