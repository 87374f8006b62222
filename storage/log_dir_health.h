// LogDirHealth: whether a log dir may still be written (Kafka's
// LogDirFailureChannel, LevelDB's background error).
//
// Fail-stop. Once a write or an fsync in a log dir has failed, the kernel may
// have dropped the dirty pages and marked them clean (a later fsync then
// "succeeds" over lost data: fsyncgate), so nothing written there since the
// last good fsync can be trusted. The first such error takes the whole dir
// offline for the life of the process: every Log of the dir answers
// kStorageError (Kafka KAFKA_STORAGE_ERROR) from then on — appends, reads,
// flushes and flush_up_to waiters — and nothing is marked durable that was not.
// A restart recovers the dir from what is on disk (log.h, Recovery).
// The one exception: an append refused whole because the disk is full
// (kStorageFull from the tail writer: nothing of it was written, earlier bytes
// untouched) leaves the dir online.
//
// Shared (shared_ptr) by every Log of one dir and its LogManager; a bare Log
// gets its own. Thread-safe; offline() is one atomic load.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>

#include "storage/status.h"

namespace millrace::storage {

class LogDirHealth {
 public:
  // Called once, on the thread whose call failed, when the dir goes offline
  // (log it, count it); must not block or call back into storage.
  using Listener = std::function<void(const std::filesystem::path& dir, const Status& cause)>;

  explicit LogDirHealth(std::filesystem::path dir, Listener on_offline = {})
      : dir_(std::move(dir)), on_offline_(std::move(on_offline)) {}

  const std::filesystem::path& dir() const { return dir_; }
  bool offline() const { return offline_.load(std::memory_order_acquire); }

  // Takes the dir offline because of `cause` (the first cause is kept).
  // Returns the error to hand to the caller.
  Status take_offline(const Status& cause) {
    bool first = false;
    {
      std::lock_guard l(mu_);
      if (!offline_.load(std::memory_order_relaxed)) {
        cause_ = cause;
        offline_.store(true, std::memory_order_release);
        first = true;
      }
    }
    if (first && on_offline_) on_offline_(dir_, cause);
    return error();
  }

  // kStorageError naming the dir and the first cause; Ok while online.
  Status error() const {
    if (!offline()) return Status::Ok();
    std::lock_guard l(mu_);
    return Status(Errc::kStorageError, dir_.string() + " is offline after: " + cause_.to_string());
  }

 private:
  const std::filesystem::path dir_;
  const Listener on_offline_;
  std::atomic<bool> offline_{false};
  mutable std::mutex mu_;
  Status cause_;  // GUARDED_BY(mu_)
};

}  // namespace millrace::storage
