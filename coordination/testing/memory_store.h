// An in-memory GroupStore for tests and fuzzers: keeps every appended record
// in order (a restart replays `log`) and fails appends while `fail` is set.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "coordination/group_store.h"

namespace millrace::coordination {

class MemoryStore : public GroupStore {
 public:
  bool append(const std::string& group_id, const std::vector<StoredRecord>& records) override {
    if (fail) return false;
    log.insert(log.end(), records.begin(), records.end());
    appends.push_back({group_id, records.size()});
    return true;
  }
  std::vector<StoredRecord> log;
  std::vector<std::pair<std::string, size_t>> appends;  // each append: the group it named, its record count
  bool fail = false;
};

}  // namespace millrace::coordination
