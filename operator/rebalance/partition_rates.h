// Per-partition produce and fetch byte rates from the brokers' Prometheus
// counters (broker/metrics/broker_metrics.cc, served at the admin port's
// /metrics):
//   millrace_partition_bytes_in_total{topic="t",partition="3"} 1234   produced to the partitions it leads
//   millrace_partition_bytes_out_total{topic="t",partition="3"} 567   fetched by consumers from it
// Pure: the text is parsed and two samples give rates; the scraping is
// operator/broker_rates. Nothing here throws: bad input is an error value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "operator/rebalance/machine.h"

namespace millrace::op::rebalance {

inline constexpr const char* kBytesInFamily = "millrace_partition_bytes_in_total";
inline constexpr const char* kBytesOutFamily = "millrace_partition_bytes_out_total";

struct PartitionBytes {
  double in = 0;   // bytes produced (a counter) or bytes/s (a rate)
  double out = 0;  // bytes fetched by consumers, likewise
};

using PartitionCounters = std::map<TopicPartition, PartitionBytes>;

struct ParsedCounters {
  PartitionCounters counters;
  std::string error;  // "line 7: ...": the whole text refused
  bool ok() const { return error.empty(); }
};

// The two families out of a Prometheus text exposition (format 0.0.4). Other
// families, # HELP / # TYPE / comment lines, blank lines, timestamps, labels in
// any order, other labels beside topic and partition, and escaped label values
// (\\ \" \n) are accepted. Refused, naming the line: a line that is not a
// sample, one of the two families without a topic or a numeric partition label,
// a value not finite or negative, the same partition twice in one family.
ParsedCounters parse_partition_counters(std::string_view text);

struct CounterSample {
  int64_t at_ms = 0;  // when it was taken (any clock, the same for both samples)
  PartitionCounters counters;
};

// Bytes per second between two samples of one broker: (after - before) / seconds.
// A counter lower after than before means the broker restarted in between: it
// counted from 0 since, so its rate is after / seconds (what Prometheus' rate()
// does; it underestimates, never inflates). A partition absent before (first
// produced to, or its leadership just arrived) counts from 0 too; one absent
// after is left out. No rates when after is not later than before.
PartitionCounters rates_between(const CounterSample& before, const CounterSample& after);

}  // namespace millrace::op::rebalance
