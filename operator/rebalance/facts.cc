#include "operator/rebalance/facts.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace millrace::op::rebalance {

Adapted to_planner(const Facts& facts) {
  Adapted out;
  for (const client::BrokerDescription& b : facts.brokers)
    out.cluster.brokers.push_back({b.id, b.rack.value_or("")});
  std::sort(out.cluster.brokers.begin(), out.cluster.brokers.end(),
            [](const planner::Broker& a, const planner::Broker& b) { return a.id < b.id; });

  std::map<TopicPartition, int64_t> size;
  for (const client::BrokerLogDirs& d : facts.log_dirs) {
    if (d.error) {
      out.warnings.push_back("broker " + std::to_string(d.broker_id) + ": DescribeLogDirs: " + d.error->to_string());
      continue;
    }
    for (const auto& [tp, bytes] : d.partition_bytes) {
      int64_t& s = size[{tp.topic, tp.partition}];
      s = std::max(s, bytes);
    }
  }
  out.warnings.insert(out.warnings.end(), facts.rate_warnings.begin(), facts.rate_warnings.end());
  PartitionCounters rates;  // the largest any broker reports, in and out apart
  for (const PartitionCounters& broker : facts.partition_rates)
    for (const auto& [tp, r] : broker) {
      PartitionBytes& max = rates[tp];
      max.in = std::max(max.in, r.in);
      max.out = std::max(max.out, r.out);
    }
  std::map<TopicPartition, const client::PartitionReassignment*> moving;
  for (const client::PartitionReassignment& r : facts.reassignments) moving[{r.tp.topic, r.tp.partition}] = &r;

  for (const client::TopicDescription& t : facts.topics)
    for (const client::PartitionInfo& p : t.partitions) {
      const TopicPartition tp{t.name, p.partition};
      std::vector<int32_t> replicas = p.replicas;
      if (auto m = moving.find(tp); m != moving.end()) {
        out.in_flight.insert(tp);
        const auto& adding = m->second->adding;
        replicas.clear();
        for (int32_t b : m->second->replicas)
          if (std::find(adding.begin(), adding.end(), b) == adding.end()) replicas.push_back(b);
      }
      if (replicas.empty()) {
        out.warnings.push_back(t.name + "-" + std::to_string(p.partition) + ": no replicas (error " +
                               std::to_string(p.error_code) + "), left out");
        continue;
      }
      planner::Partition q;
      q.topic = t.name;
      q.partition = p.partition;
      q.replicas = std::move(replicas);
      auto s = size.find(tp);
      q.bytes = s == size.end() ? 0 : s->second;
      if (auto r = rates.find(tp); r != rates.end()) {
        q.in_bytes_per_s = r->second.in;
        q.out_bytes_per_s = r->second.out;
      }
      out.cluster.partitions.push_back(std::move(q));
    }
  std::sort(out.cluster.partitions.begin(), out.cluster.partitions.end());
  // A move the brokers list for a partition Metadata did not show still counts as in flight.
  for (const auto& [tp, r] : moving) out.in_flight.insert(tp);
  return out;
}

int64_t throttle_rate(const std::vector<std::vector<client::ConfigEntry>>& broker_configs) {
  int64_t rate = 0;
  for (const auto& configs : broker_configs)
    for (const client::ConfigEntry& e : configs) {
      if (e.name != "leader.replication.throttled.rate" || !e.value) continue;
      int64_t v = 0;
      const std::string& text = *e.value;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size()) continue;  // not a number: as if unset
      if (v > 0 && (rate == 0 || v < rate)) rate = v;
    }
  return rate;
}

}  // namespace millrace::op::rebalance
