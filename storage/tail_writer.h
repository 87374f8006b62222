// TailWriter: how appended bytes reach the end of a segment's .log file, and
// AppendBufferPool: the memory budget for those buffers across all logs.
//
// A buffered TailWriter keeps the segment's tail in a user-space chunk and
// writes it with few large writes at page-aligned file offsets (the kernel
// pays per write call and per partially written page; 16 KiB batches at odd
// offsets cost it about twice what aligned 128 KiB writes do):
//
//   file offset: chunk_start (multiple of 4 KiB)              chunk_start + capacity
//                |<--- written: in the file --->|<- pending ->|<----- free ----->|
//                                               ^ file_size() ^ end()
//
// Invariants: chunk_start % kPageSize == 0; written <= filled <= capacity;
// the file holds exactly [0, file_size()) of the segment (file_size() ==
// chunk_start + written); end() == chunk_start + filled is the logical end.
// Pending bytes are written out when the chunk fills (one aligned write of the
// whole chunk when it started empty), and whenever the owner calls
// write_out(): on read of not-yet-written bytes, flush/fsync, roll, close and
// the LogManager's linger timer. A process crash (kill -9) loses pending bytes
// only; what was written out is in the page cache and survives it; fsync is
// the owner's business (after write_out()).
//
// Write-through (capacity 0, or no memory left in the pool): every append is
// one write at the end, written == filled always.
//
// Preallocation: with preallocate_bytes > 0, [file_size, reserved_end) is
// reserved with fallocate(FALLOC_FL_KEEP_SIZE) ahead of the appends, in steps
// as large as the file (kMinReserveStep at least, preallocate_bytes at most),
// so a small segment reserves little: a broker with 10,000 partition replicas
// reserved 8 MiB each and filled a 60 GB disk before steps grew. The file
// size does not change (recovery never sees the reserved blocks), writes into
// reserved blocks are cheaper for the filesystem, and a full disk shows at
// append time (kStorageFull, nothing changed) rather than when a buffered byte
// is written out later. trim() gives the reserved blocks back (roll, close,
// open after a crash).
//
// Not thread-safe: owned by a Segment, guarded by the Log mutex; file_size()
// and end() may be read from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "storage/file_region.h"
#include "storage/status.h"

namespace millrace::storage {

class Env;
class Log;

inline constexpr int64_t kPageSize = 4096;
// The smallest preallocation step (see Preallocation above).
inline constexpr int64_t kMinReserveStep = 4 * kPageSize;

// Shared by every Log of a LogManager (shared_ptr: a Log may outlive the
// manager while a fetch holds it). Thread-safe.
class AppendBufferPool {
 public:
  explicit AppendBufferPool(int64_t limit_bytes) : limit_(limit_bytes) {}

  // Takes n bytes of the budget; false when that would exceed the limit.
  bool acquire(int64_t n);
  void release(int64_t n);
  int64_t in_use() const { return used_.load(std::memory_order_relaxed); }
  int64_t limit() const { return limit_; }

  // Logs whose buffers hold pending bytes; the LogManager's tail writer thread
  // writes them out after its linger time.
  void note_pending(std::weak_ptr<Log> log);
  // Waits until a log is pending or stop() was called; then waits `linger_ms`
  // more (more appends join the same write) and returns the pending logs.
  // Empty after stop().
  std::vector<std::weak_ptr<Log>> take_pending(int64_t linger_ms);
  void stop();

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::weak_ptr<Log>> pending_;  // GUARDED_BY(mu_)
  bool stopped_ = false;                     // GUARDED_BY(mu_)
};

struct TailWriterOptions {
  int64_t buffer_bytes = 0;       // chunk capacity, a multiple of kPageSize; 0 = write-through
  int64_t preallocate_bytes = 0;  // reservation step; 0 = none
  std::shared_ptr<AppendBufferPool> pool;  // null: no total limit
  Env* env = nullptr;                      // for the files the owner creates; null: Env::posix()
};

class TailWriter {
 public:
  // The file currently holds `file_size` bytes.
  TailWriter(std::shared_ptr<const FileHandle> file, TailWriterOptions options, int64_t file_size);
  ~TailWriter();  // drops pending bytes (the owner writes them out first) and returns the memory
  TailWriter(const TailWriter&) = delete;
  TailWriter& operator=(const TailWriter&) = delete;

  // Appends at end(). On error nothing changed: end() is as before and the
  // file is cut back to it.
  Status append(std::span<const uint8_t> bytes);
  // Writes the pending bytes. On error they stay pending (retried next time).
  Status write_out();
  // write_out(), then returns the buffer memory (idle log, sealed segment).
  Status release();
  // Gives back reserved blocks past the end of the file (after write_out()).
  Status trim();
  // After the owner cut the file at `file_size` (truncation, recovery,
  // compaction swap): pending bytes are dropped, the buffer restarts there.
  void reset(std::shared_ptr<const FileHandle> file, int64_t file_size);

  int64_t file_size() const { return file_size_.load(std::memory_order_acquire); }
  int64_t end() const { return end_.load(std::memory_order_acquire); }
  bool pending() const { return end() > file_size(); }
  bool has_buffer() const { return buf_ != nullptr; }

 private:
  bool ensure_buffer();
  Status reserve(int64_t target_end);
  Status write_range(const uint8_t* data, size_t n, int64_t at, size_t& done);
  Status write_through(std::span<const uint8_t> bytes);
  Status cut_back(int64_t size, Status why);
  void publish();  // file_size_/end_ from the chunk counters

  std::shared_ptr<const FileHandle> file_;
  TailWriterOptions opts_;
  std::unique_ptr<uint8_t[]> buf_;  // capacity bytes, or null
  int64_t chunk_start_ = 0;
  int64_t written_ = 0;
  int64_t filled_ = 0;
  int64_t reserved_end_ = 0;  // fallocate'd up to here
  bool trim_needed_ = false;  // blocks may be reserved past the end (by us, or a crashed run)
  std::atomic<int64_t> file_size_{0};
  std::atomic<int64_t> end_{0};
};

}  // namespace millrace::storage
