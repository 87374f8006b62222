// murmur2 as the Java client computes it (org.apache.kafka.common.utils.Utils.murmur2):
// seed 0x9747b28c, m 0x5bd1e995, r 24, little-endian 4-byte blocks, signed 32-bit
// arithmetic. partition_for_key() is BuiltInPartitioner.partitionForKey:
// (murmur2(key) & 0x7fffffff) % partitions. Same key bytes, same partition as Java.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace millrace::client {

int32_t murmur2(std::span<const uint8_t> data);
inline int32_t murmur2(std::string_view s) {
  return murmur2({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}
// REQUIRES: partitions > 0.
inline int32_t partition_for_key(std::string_view key, int32_t partitions) {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

}  // namespace millrace::client
