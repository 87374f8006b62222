// Where the coordinator persists offsets and group metadata: records of the
// compacted internal topic __consumer_offsets (layout in offsets_format.h).
// The broker implements it on the storage Log; tests use an in-memory one.
#pragma once

#include <cstdint>
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
  // Appends the records, all of group `group_id`, as one batch on the group's
  // partition of __consumer_offsets (offsets_partition.h; a store of one log
  // may ignore it). Returns false when they could not be
  // written; the coordinator then answers the request with an error and does
  // not change its state. Called with the coordinator's lock held: must not
  // call back into the coordinator.
  virtual bool append(const std::string& group_id, const std::vector<StoredRecord>& records) = 0;
};

}  // namespace millrace::coordination
