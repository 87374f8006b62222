// Where the coordinator persists offsets and group metadata: records of the
// compacted internal topic __consumer_offsets (layout in offsets_format.h),
// each write on the partition its group hashes to (offsets_partition.h).
//
// Asynchronous, as the consumption of a Raft commit will be: the coordinator
// stages a write under its lock (GroupCoordinator's "ready" writes), hands it
// to append() after releasing the lock, and applies the write's effect (and
// answers the client) only when `done` reports it stored. The broker
// implements it on the partitions of __consumer_offsets (acks=all through
// cluster::Partition::replicate); tests and fuzzers use MemoryStore.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace millrace::coordination {

struct StoredRecord {
  std::vector<uint8_t> key;
  std::optional<std::vector<uint8_t>> value;  // nullopt = tombstone
};

class GroupStore {
 public:
  virtual ~GroupStore() = default;
  // Appends `records` (all of one group) as one batch on `partition` of
  // __consumer_offsets, and calls `done(true)` once they are stored as
  // durably as the store promises (the broker: as an acks=all Produce), or
  // `done(false)` when they could not be. Contract:
  //  - the coordinator calls append() in the order it staged the writes and
  //    never from two threads at once, so that order is the log's order;
  //  - `done` runs exactly once, on any thread, possibly inside append();
  //  - the `done` calls of one partition run in append order (the
  //    coordinator applies writes as a state machine applies its log).
  virtual void append(int32_t partition, std::vector<StoredRecord> records, std::function<void(bool)> done) = 0;
};

}  // namespace millrace::coordination
