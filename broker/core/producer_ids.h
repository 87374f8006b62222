// Allocates idempotent producer ids that are never reused, even across
// restarts (the log keeps producer state per id, so a reused id with
// sequence 0 would be taken for a duplicate).
//
// File format (<first log dir>/producer_id.block): one line of text
//   "v1 <next block start>\n"
// Ids are handed out from a block of kBlockSize; the file is rewritten
// (temp + rename + fsync) with the next block's start before the first id
// of a new block is given out, so a crash can skip ids but never repeat one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>

namespace millrace::broker {

class ProducerIds {
 public:
  static constexpr int64_t kBlockSize = 1000;
  explicit ProducerIds(std::filesystem::path file) : file_(std::move(file)) {}
  std::string load();  // error message, empty when ok
  // -1 when the block file cannot be written.
  int64_t next();

 private:
  bool persist(int64_t block_end);
  std::filesystem::path file_;
  std::mutex mu_;
  int64_t next_ = 0;       // GUARDED_BY(mu_)
  int64_t block_end_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace millrace::broker
