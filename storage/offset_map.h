// OffsetMap: compaction's bounded dedupe map, key hash -> latest offset
// (Kafka's SkimpyOffsetMap).
//
// A fixed-size open-addressing table with linear probing. Each slot is 24
// bytes:
//   +------------------------+------------------------+----------------+
//   | key hash, high 64 bits | key hash, low 64 bits  | offset + 1 i64 |
//   +------------------------+------------------------+----------------+
//   offset + 1 == 0 marks an empty slot, so a zeroed allocation is an empty
//   table (calloc: the kernel hands out zero pages lazily, so a large table
//   costs resident memory only for the slots used).
// Keys are never stored, only a 128-bit hash of them; two keys with the same
// hash count as one key (Kafka accepts the same risk with MD5).
//
// Bounded: the table has memory_bytes / 24 slots (at least 2; capped at 2 GiB,
// Kafka's cap per cleaner thread) and holds at most 90% of them (Kafka's
// log.cleaner.io.buffer.load.factor), at least one entry. put() of a new key
// into a full map returns false: the cleaner then stops its dirty range
// there and cleans the rest in a later pass.
//
// Not thread-safe: one compaction pass owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace millrace::storage {

struct KeyHash {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const KeyHash&) const = default;
};

// 128-bit hash of a record key (MurmurHash3's x64 128-bit construction, seed 0).
KeyHash hash_key(std::span<const uint8_t> key);

class OffsetMap {
 public:
  static constexpr size_t kSlotBytes = 24;
  static constexpr int64_t kMaxMemoryBytes = int64_t{1} << 31;
  static constexpr double kLoadFactor = 0.9;

  explicit OffsetMap(int64_t memory_bytes);
  OffsetMap(const OffsetMap&) = delete;
  OffsetMap& operator=(const OffsetMap&) = delete;

  // Records `offset` (>= 0) as the latest for `key`. Returns false, changing
  // nothing, when the key is new and the map already holds max_entries().
  bool put(std::span<const uint8_t> key, int64_t offset) { return put(hash_key(key), offset); }
  bool put(const KeyHash& h, int64_t offset);
  // The offset last put for `key`, or -1 when none.
  int64_t get(std::span<const uint8_t> key) const { return get(hash_key(key)); }
  int64_t get(const KeyHash& h) const;

  size_t size() const { return size_; }
  size_t slots() const { return slots_; }
  size_t max_entries() const { return max_entries_; }
  bool full() const { return size_ >= max_entries_; }

 private:
  struct Slot {
    uint64_t hi;
    uint64_t lo;
    int64_t offset_plus_one;  // 0 = empty
  };
  static_assert(sizeof(Slot) == kSlotBytes);
  struct Free {
    void operator()(Slot* p) const;
  };
  // The slot holding h, or the empty slot where it would go.
  size_t find(const KeyHash& h) const;

  std::unique_ptr<Slot[], Free> table_;
  size_t slots_ = 0;
  size_t max_entries_ = 0;
  size_t size_ = 0;
};

}  // namespace millrace::storage
