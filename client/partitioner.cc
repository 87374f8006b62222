#include "client/partitioner.h"

#include "client/murmur2.h"

namespace millrace::client {

int32_t DefaultPartitioner::partition(std::string_view topic, const std::optional<std::string>& key,
                                      int32_t num_partitions) {
  if (key) return partition_for_key(*key, num_partitions);
  std::lock_guard lock(mu_);
  auto it = sticky_.find(topic);
  if (it != sticky_.end() && it->second < num_partitions) return it->second;
  return next_sticky(topic, num_partitions, -1);
}

void DefaultPartitioner::on_new_batch(std::string_view topic, int32_t prev_partition, int32_t num_partitions) {
  std::lock_guard lock(mu_);
  auto it = sticky_.find(topic);
  // Only move if the batch that filled was on the current sticky partition (KIP-480).
  if (it == sticky_.end() || it->second == prev_partition) next_sticky(topic, num_partitions, prev_partition);
}

int32_t DefaultPartitioner::next_sticky(std::string_view topic, int32_t num_partitions, int32_t avoid) {
  int32_t p = static_cast<int32_t>(rng_() % static_cast<uint64_t>(num_partitions));
  if (num_partitions > 1 && p == avoid) p = (p + 1 + static_cast<int32_t>(rng_() % (num_partitions - 1))) % num_partitions;
  sticky_[std::string(topic)] = p;
  return p;
}

int32_t RoundRobinPartitioner::partition(std::string_view topic, const std::optional<std::string>&,
                                         int32_t num_partitions) {
  std::lock_guard lock(mu_);
  uint32_t n = counters_[std::string(topic)]++;
  return static_cast<int32_t>(n % static_cast<uint32_t>(num_partitions));
}

}  // namespace millrace::client
