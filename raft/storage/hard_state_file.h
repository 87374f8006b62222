// HardStateFile: a Raft replica's term, vote and commit index on disk (the
// "raft.state" file beside its log). Raft's safety needs term and vote to be
// durable before any vote or append acknowledgement leaves the node (raft.h,
// driver step 4): a replica that forgot its vote could vote twice in a term.
//
// Layout (21 bytes, big-endian):
//   +---------+------+------+--------+--------+
//   | version | term | vote | commit | crc32c |
//   |  u8 = 1 |  i32 |  i32 |   i64  |   u32  |
//   +---------+------+------+--------+--------+
//   crc32c (CRC-32C, protocol/record/crc32c.h) covers the 17 bytes before it.
//   vote = -1: no vote in `term`. commit = -1: nothing known committed.
//
// Durability: write() replaces the file atomically (write raft.state.tmp,
// fdatasync it, rename over raft.state, fsync the directory), every call
// through storage::Env. The new state survives a crash once write() returned
// OK; before that, a crash leaves the previous state whole (never a mix).
// A failed write() leaves the previous file valid: the caller must not answer
// the vote or append that needed it, and should stop the group (the directory
// may be failing).
//
// Cost: every write() is two fsyncs (the file and the directory). The core
// hands a hard state whenever the commit index moves, but only term and vote
// must be durable before a message leaves (commit is advisory: a restarted
// replica relearns it from the leader). A driver with many groups should
// write at once only when must_write_now() says so, and write commit-only
// changes lazily (a timer, or the next term change).
//
// Reading: a missing file is a new replica (HardState{}). Anything else that
// is not a valid file (empty, unknown version, wrong size, checksum mismatch,
// a field out of range) is an error naming the problem, never a silent zero:
// a replica that lost its vote must not take part until an operator decides.
//
// Threading: none inside; one group's thread calls it. Not for concurrent
// writers of the same path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "raft/types.h"
#include "storage/env.h"
#include "storage/status.h"

namespace millrace::raft {

inline constexpr uint8_t kHardStateVersion = 1;
inline constexpr size_t kHardStateFileSize = 1 + 4 + 4 + 8 + 4;
inline constexpr const char* kHardStateFileName = "raft.state";

std::vector<uint8_t> encode_hard_state(const HardState& hs);
// kCorruptSegment with a message naming `what` and the problem.
storage::Result<HardState> decode_hard_state(const std::vector<uint8_t>& bytes, const std::string& what);

class HardStateFile {
 public:
  // `env` null: storage::Env::posix(). The directory must exist.
  explicit HardStateFile(std::filesystem::path path, storage::Env* env = nullptr)
      : path_(std::move(path)), env_(storage::env_or_posix(env)) {}

  const std::filesystem::path& path() const { return path_; }

  // HardState{} when the file does not exist; an error for any bad file or an
  // I/O error reading it.
  storage::Result<HardState> read() const;
  // Durable when it returns OK (see the top).
  storage::Status write(const HardState& hs);

  // What read() found or write() made durable last (HardState{} before).
  const HardState& last_written() const { return written_; }
  // True when `hs` changes term or vote against last_written(): it must be
  // written (and so synced) before any message of that Ready is sent.
  bool must_write_now(const HardState& hs) const { return hs.term != written_.term || hs.vote != written_.vote; }

 private:
  std::filesystem::path path_;
  storage::Env* env_;
  mutable HardState written_;  // read() is const but learns what is on disk
};

}  // namespace millrace::raft
