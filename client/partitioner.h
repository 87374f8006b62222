// Choosing a partition for a producer record.
//
// DefaultPartitioner is the Java client's built-in behaviour:
//   - a record with an explicit partition keeps it;
//   - a keyed record goes to (murmur2(key) & 0x7fffffff) % partitions, the same
//     partition the Java client picks for the same key bytes;
//   - a keyless record is "sticky" (KIP-480): every keyless record of a topic goes
//     to the same partition until the accumulator starts a new batch there, then the
//     producer calls on_new_batch() and the partitioner switches to another partition.
// Implement Partitioner to plug in your own choice. Thread-safe: send() may be called
// from any application thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

namespace millrace::client {

class Partitioner {
 public:
  virtual ~Partitioner() = default;
  // REQUIRES: num_partitions > 0. Returns a partition in [0, num_partitions).
  virtual int32_t partition(std::string_view topic, const std::optional<std::string>& key,
                            int32_t num_partitions) = 0;
  // The accumulator is about to open a new batch for (topic, prev_partition) because
  // the previous one filled or was sent; sticky partitioners move on here.
  virtual void on_new_batch(std::string_view /*topic*/, int32_t /*prev_partition*/,
                            int32_t /*num_partitions*/) {}
};

class DefaultPartitioner final : public Partitioner {
 public:
  explicit DefaultPartitioner(uint64_t seed = std::random_device{}()) : rng_(seed) {}
  int32_t partition(std::string_view topic, const std::optional<std::string>& key,
                    int32_t num_partitions) override;
  void on_new_batch(std::string_view topic, int32_t prev_partition, int32_t num_partitions) override;

 private:
  int32_t next_sticky(std::string_view topic, int32_t num_partitions, int32_t avoid);

  std::mutex mu_;
  std::mt19937_64 rng_;                               // GUARDED_BY(mu_)
  // Transparent hashing: the per-record lookup by string_view allocates nothing.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int32_t, NameHash, std::equal_to<>> sticky_;   // GUARDED_BY(mu_)
};

// Round robin over partitions, ignoring keys (Java's RoundRobinPartitioner).
class RoundRobinPartitioner final : public Partitioner {
 public:
  int32_t partition(std::string_view topic, const std::optional<std::string>& key,
                    int32_t num_partitions) override;

 private:
  std::mutex mu_;
  std::unordered_map<std::string, uint32_t> counters_;  // GUARDED_BY(mu_)
};

}  // namespace millrace::client
