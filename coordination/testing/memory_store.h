// An in-memory GroupStore for tests and fuzzers: keeps every appended record
// in order (a restart replays `log`), fails appends while `fail` is set, and
// completes each append at once, or, while `hold` is set, when the test calls
// release() (so a test sees the coordinator between staging a write and
// learning it is stored).
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "coordination/group_store.h"

namespace millrace::coordination {

class MemoryStore : public GroupStore {
 public:
  void append(int32_t partition, std::vector<StoredRecord> records, std::function<void(bool)> done) override {
    bool ok = !fail;
    if (ok) {
      appends.push_back({partition, records.size()});
      log.insert(log.end(), records.begin(), records.end());
    }
    if (hold) {
      held.push_back([done = std::move(done), ok] { done(ok); });
      return;
    }
    done(ok);
  }
  // Completes the oldest held append; false when none is held.
  bool release() {
    if (held.empty()) return false;
    auto next = std::move(held.front());
    held.pop_front();
    next();
    return true;
  }
  void release_all() {
    while (release()) {
    }
  }

  std::vector<StoredRecord> log;
  std::vector<std::pair<int32_t, size_t>> appends;  // each append: its partition, its record count
  std::deque<std::function<void()>> held;
  bool fail = false;
  bool hold = false;
};

}  // namespace millrace::coordination
