// An in-memory GroupStore for tests and fuzzers: keeps every appended record
// in order (a restart replays `log`) and fails appends while `fail` is set.
#pragma once

#include <vector>

#include "coordination/group_store.h"

namespace millrace::coordination {

class MemoryStore : public GroupStore {
 public:
  bool append(const std::vector<StoredRecord>& records) override {
    if (fail) return false;
    log.insert(log.end(), records.begin(), records.end());
    return true;
  }
  std::vector<StoredRecord> log;
  bool fail = false;
};

}  // namespace millrace::coordination
