#include "storage/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "protocol/record/crc32c.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"
#include "storage/index_file.h"

namespace millrace::storage {
namespace {

void append_crc(std::vector<uint8_t>& out) {
  uint32_t crc = record::crc32c(0, out.data(), out.size());
  wire::Writer(out).uint32(crc);
}

Status check_crc(const std::vector<uint8_t>& bytes, const char* what) {
  if (bytes.size() < 5) return Status(Errc::kCorruptSegment, std::string(what) + ": short file");
  size_t body = bytes.size() - 4;
  wire::Reader r(std::span<const uint8_t>(bytes).subspan(body));
  uint32_t stored = r.uint32();
  if (record::crc32c(0, bytes.data(), body) != stored)
    return Status(Errc::kCorruptSegment, std::string(what) + ": checksum mismatch");
  return Status::Ok();
}

}  // namespace

std::vector<uint8_t> encode_partition_checkpoint(const PartitionCheckpoint& c) {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  w.uint8(kPartitionCheckpointVersion);
  w.int64(c.recovery_point);
  w.int64(c.log_start_offset);
  w.int64(c.high_watermark);
  w.int64(c.cleaner_offset);
  append_crc(out);
  return out;
}

Result<PartitionCheckpoint> decode_partition_checkpoint(const std::vector<uint8_t>& bytes) {
  if (bytes.size() != kPartitionCheckpointSize)
    return Status(Errc::kCorruptSegment, "partition checkpoint: size " + std::to_string(bytes.size()));
  if (Status s = check_crc(bytes, "partition checkpoint"); !s.ok()) return s;
  wire::Reader r(bytes);
  uint8_t version = r.uint8();
  if (version != kPartitionCheckpointVersion)
    return Status(Errc::kCorruptSegment, "partition checkpoint: unknown version " + std::to_string(version));
  PartitionCheckpoint c;
  c.recovery_point = r.int64();
  c.log_start_offset = r.int64();
  c.high_watermark = r.int64();
  c.cleaner_offset = r.int64();
  if (c.recovery_point < 0 || c.log_start_offset < 0 || c.high_watermark < 0 || c.cleaner_offset < 0)
    return Status(Errc::kCorruptSegment, "partition checkpoint: negative offset");
  return c;
}

std::vector<uint8_t> encode_epoch_checkpoint(const std::vector<EpochEntry>& entries) {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  w.uint8(kEpochCheckpointVersion);
  w.uint32(static_cast<uint32_t>(entries.size()));
  for (const auto& e : entries) { w.int32(e.epoch); w.int64(e.start_offset); }
  append_crc(out);
  return out;
}

Result<std::vector<EpochEntry>> decode_epoch_checkpoint(const std::vector<uint8_t>& bytes) {
  if (Status s = check_crc(bytes, "leader epoch checkpoint"); !s.ok()) return s;
  wire::Reader r(std::span<const uint8_t>(bytes).first(bytes.size() - 4));
  uint8_t version = r.uint8();
  if (version != kEpochCheckpointVersion)
    return Status(Errc::kCorruptSegment, "leader epoch checkpoint: unknown version " + std::to_string(version));
  uint32_t count = r.uint32();
  if (!r.ok() || r.remaining() != static_cast<size_t>(count) * 12)
    return Status(Errc::kCorruptSegment, "leader epoch checkpoint: count does not match size");
  std::vector<EpochEntry> out;
  for (uint32_t i = 0; i < count; ++i) {
    EpochEntry e{r.int32(), r.int64()};
    if (e.epoch < 0 || e.start_offset < 0 ||
        (!out.empty() && (e.epoch <= out.back().epoch || e.start_offset < out.back().start_offset)))
      return Status(Errc::kCorruptSegment, "leader epoch checkpoint: entries not increasing");
    out.push_back(e);
  }
  return out;
}

std::vector<uint8_t> encode_framed(uint8_t version, std::span<const uint8_t> payload) {
  std::vector<uint8_t> out;
  out.reserve(payload.size() + 5);
  out.push_back(version);
  out.insert(out.end(), payload.begin(), payload.end());
  append_crc(out);
  return out;
}

Result<Framed> decode_framed(const std::vector<uint8_t>& bytes, const char* what) {
  if (Status s = check_crc(bytes, what); !s.ok()) return s;
  Framed f;
  f.version = bytes[0];
  f.payload.assign(bytes.begin() + 1, bytes.end() - 4);
  return f;
}

Status fsync_dir(const std::filesystem::path& dir, Env* env) { return env_or_posix(env)->fsync_dir(dir); }

Status write_file_atomic(const std::filesystem::path& path, const std::vector<uint8_t>& bytes, Env* env) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  if (Status s = write_file_at(tmp, 0, bytes, true, true, env); !s.ok()) return s;
  if (env_or_posix(env)->rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename " + tmp.string(), errno);
  return fsync_dir(path.parent_path(), env);
}

Status write_files_atomic(const std::filesystem::path& dir,
                          const std::vector<std::pair<std::string, std::vector<uint8_t>>>& files, Env* env) {
  if (files.empty()) return Status::Ok();
  for (const auto& [name, bytes] : files) {
    if (Status s = write_file_at(dir / (name + ".tmp"), 0, bytes, true, true, env); !s.ok()) return s;
  }
  for (const auto& [name, bytes] : files) {
    std::filesystem::path tmp = dir / (name + ".tmp");
    if (env_or_posix(env)->rename(tmp.c_str(), (dir / name).c_str()) != 0) return io_error("rename " + tmp.string(), errno);
  }
  return fsync_dir(dir, env);
}

}  // namespace millrace::storage
