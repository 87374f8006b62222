// Allocates idempotent producer ids that are never reused, even across
// restarts (the log keeps producer state per id, so a reused id with
// sequence 0 would be taken for a duplicate).
//
// File format (<first log dir>/producer_id.block), framed as
// storage/checkpoint.h draws it:
//   | version u8 = 2 | next block start i64 (big-endian) | crc32c u32 |
// The older text format "v1 <next block start>\n" is still read (and replaced
// by the framed one at the next block). Ids are handed out from a block of
// kBlockSize; the file is rewritten with storage::write_file_atomic (temp file,
// fdatasync, rename, fsync of the dir) with the next block's start before the
// first id of a new block is given out, so a crash can skip ids but never
// repeat one. A file that fails its CRC fails the start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>

#include "storage/env.h"

namespace millrace::cluster {

class ProducerIds {
 public:
  static constexpr int64_t kBlockSize = 1000;
  static constexpr uint8_t kFileVersion = 2;
  explicit ProducerIds(std::filesystem::path file, storage::Env* env = nullptr)
      : file_(std::move(file)), env_(env) {}
  std::string load();  // error message, empty when ok
  // -1 when the block file cannot be written (or the source gives no block).
  int64_t next();
  // Blocks from elsewhere instead of the file: the controller's metadata log
  // in a cluster (ProducerIdsRecord), so two brokers never hand out the same
  // id. `source(n)` returns the first id of a new block of n ids, or -1. It
  // may block (a round trip to the active controller).
  void set_block_source(std::function<int64_t(int64_t)> source) {
    std::lock_guard lock(mu_);
    source_ = std::move(source);
    next_ = block_end_;  // the file's block is not used once blocks come from the source
  }
  // Where the file says the next block starts (what a source must move past).
  int64_t file_next() const { return file_next_; }

 private:
  bool persist(int64_t block_end);
  std::filesystem::path file_;
  storage::Env* env_;
  std::mutex mu_;
  int64_t next_ = 0;       // GUARDED_BY(mu_)
  int64_t block_end_ = 0;  // GUARDED_BY(mu_)
  int64_t file_next_ = 0;
  std::function<int64_t(int64_t)> source_;  // GUARDED_BY(mu_)
};

}  // namespace millrace::cluster
