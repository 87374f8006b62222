// Per-partition checkpoint files, each written whole and atomically (write
// <name>.tmp, fdatasync, rename, fsync the directory) and protected by CRC-32C.
//
// partition.checkpoint (37 bytes):
//   +---------+----------------+------------------+----------------+----------------+--------+
//   | version | recovery_point | log_start_offset | high_watermark | cleaner_offset | crc32c |
//   |  u8 = 1 |      i64       |       i64        |      i64       |      i64       |  u32   |
//   +---------+----------------+------------------+----------------+----------------+--------+
//   big-endian; crc32c covers every byte before it. recovery_point: every offset
//   below it was fsynced when the file was written. cleaner_offset: compaction
//   has deduplicated everything below it (first dirty offset).
//
// leader-epoch.checkpoint:
//   | version u8 = 1 | count u32 | count x (epoch i32, start_offset i64) | crc32c u32 |
//   entries sorted by epoch and start offset, both strictly increasing.
//
// Decoding returns kCorruptSegment for a short file, an unknown version, a CRC
// mismatch or trailing bytes; the caller then recovers from the log itself.
//
// Framed file (the broker's own metadata files: topics.json, producer_id.block):
//   | version u8 | payload (any length) | crc32c u32 |
//   crc32c covers the version and the payload. The version byte is never '{'
//   or 'v', the first byte of those files' unframed (older) formats, so a
//   reader tells them apart by it. Written with write_file_atomic().
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace millrace::storage {

inline constexpr uint8_t kPartitionCheckpointVersion = 1;
inline constexpr uint8_t kEpochCheckpointVersion = 1;
inline constexpr size_t kPartitionCheckpointSize = 1 + 4 * 8 + 4;

struct PartitionCheckpoint {
  int64_t recovery_point = 0;
  int64_t log_start_offset = 0;
  int64_t high_watermark = 0;
  int64_t cleaner_offset = 0;
  bool operator==(const PartitionCheckpoint&) const = default;
};

struct EpochEntry {
  int32_t epoch;
  int64_t start_offset;
  bool operator==(const EpochEntry&) const = default;
};

std::vector<uint8_t> encode_partition_checkpoint(const PartitionCheckpoint& c);
Result<PartitionCheckpoint> decode_partition_checkpoint(const std::vector<uint8_t>& bytes);

std::vector<uint8_t> encode_epoch_checkpoint(const std::vector<EpochEntry>& entries);
Result<std::vector<EpochEntry>> decode_epoch_checkpoint(const std::vector<uint8_t>& bytes);

std::vector<uint8_t> encode_framed(uint8_t version, std::span<const uint8_t> payload);
struct Framed {
  uint8_t version = 0;
  std::vector<uint8_t> payload;
};
// kCorruptSegment when shorter than 5 bytes or the CRC does not match.
Result<Framed> decode_framed(const std::vector<uint8_t>& bytes, const char* what);

// Atomic replace of `path` with `bytes` (tmp + fdatasync + rename + dir fsync);
// env null: Env::posix().
Status write_file_atomic(const std::filesystem::path& path, const std::vector<uint8_t>& bytes, Env* env = nullptr);
// Same for several files of one directory, sharing the directory fsync.
Status write_files_atomic(const std::filesystem::path& dir,
                          const std::vector<std::pair<std::string, std::vector<uint8_t>>>& files,
                          Env* env = nullptr);
Status fsync_dir(const std::filesystem::path& dir, Env* env = nullptr);

}  // namespace millrace::storage
