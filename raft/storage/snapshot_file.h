// SnapshotFile: what a partition's Raft log needs to know about offsets it no
// longer holds (the "raft.snapshot" file beside the segments). Written by
// PartitionRaftLog (partition_log.h) only; read at its open.
//
// Layout (big-endian):
//   +---------+-------+------+------------+--------------+-------+---------------+-------------+--------+
//   | version | index | term | config_len | config bytes | count | count x entry | floor       | crc32c |
//   |  u8 = 2 |  i64  |  i32 |    u32     | Config::encode|  u32  |   (below)     | i64 (v2 on) |  u32   |
//   +---------+-------+------+------------+--------------+-------+---------------+-------------+--------+
//   entry: | first i64 | last i64 | term i32 | config_len u32 | config bytes |
//   crc32c (CRC-32C) covers every byte before it. Version 1 (no floor) is
//   still read, as floor 0; version 2 is written.
//
//   index/term/config: the last snapshot installed (install_snapshot, a
//     follower restarted at index + 1), or {-1, 0, the bootstrap config}.
//     Only an install moves it, never retention: so at open, a log start
//     below index + 1 means an install was interrupted (see partition_log.h).
//   entries: the Voters entries after `index` (oldest first, no older than the
//     one in force at the log start). Written before such an entry is
//     appended and after a truncation drops one, so that retention deleting
//     the segment of a Voters entry never loses the configuration in force.
//   floor: the highest offset a LogStart entry appended here named (0: none;
//     DeleteRecords replicated). Written before such an entry is appended, so
//     a restart still keeps the log start at or above it wherever the commit
//     index allows (partition_log.h), whatever partition.checkpoint says.
//
// Durability: write() = tmp file + fdatasync + rename + directory fsync
// through storage::Env (storage::write_file_atomic); the new content survives a
// crash once write() returned OK, and a crash before leaves the old one whole.
// read(): kNotFound when missing; kCorruptSegment naming the problem for a
// short file, unknown version, checksum mismatch, bad config or trailing bytes.
#pragma once

#include <filesystem>
#include <vector>

#include "raft/types.h"
#include "storage/env.h"
#include "storage/status.h"

namespace millrace::raft {

inline constexpr uint8_t kSnapshotFileVersion = 2;
inline constexpr uint8_t kSnapshotFileVersionNoFloor = 1;
inline constexpr const char* kSnapshotFileName = "raft.snapshot";

struct SnapshotFileContent {
  SnapshotMeta base;
  std::vector<Entry> configs;  // kVoters entries, payload = Config::encode()
  Offset log_start_floor{0};   // the highest LogStart entry's offset (0: none)
  bool operator==(const SnapshotFileContent&) const = default;
};

std::vector<uint8_t> encode_snapshot_file(const SnapshotFileContent& c);
storage::Result<SnapshotFileContent> decode_snapshot_file(const std::vector<uint8_t>& bytes, const std::string& what);

storage::Result<SnapshotFileContent> read_snapshot_file(const std::filesystem::path& path, storage::Env* env);
storage::Status write_snapshot_file(const std::filesystem::path& path, const SnapshotFileContent& c,
                                    storage::Env* env);

}  // namespace millrace::raft
