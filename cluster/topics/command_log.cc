#include "cluster/topics/command_log.h"

#include <algorithm>
#include <cassert>

#include "storage/checkpoint.h"
#include "storage/index_file.h"

namespace millrace::cluster {

namespace {
using storage::Errc;
using storage::Status;

constexpr size_t kLengthSize = 4;
constexpr uint32_t kMinFramed = 1 + 4;  // version + crc, empty payload

uint32_t read_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Status corrupt(const std::filesystem::path& file, int64_t pos, const std::string& why) {
  return {Errc::kCorruptSegment, "cannot read " + file.string() + " at byte " + std::to_string(pos) + ": " + why};
}
}  // namespace

TopicCommandLog::TopicCommandLog(std::filesystem::path dir, std::filesystem::path legacy_file, storage::Env* env)
    : dir_(std::move(dir)), legacy_(std::move(legacy_file)), env_(storage::env_or_posix(env)) {}

std::vector<uint8_t> TopicCommandLog::encode_record(const LoggedCommand& c) {
  auto framed = storage::encode_framed(kRecordVersion, bytes_of(encode_command(c)));
  auto n = static_cast<uint32_t>(framed.size());
  std::vector<uint8_t> out(kLengthSize + framed.size());
  for (size_t i = 0; i < kLengthSize; ++i) out[i] = static_cast<uint8_t>(n >> (24 - 8 * i));
  std::copy(framed.begin(), framed.end(), out.begin() + kLengthSize);
  return out;
}

storage::Result<TopicTable> TopicCommandLog::read_snapshot() {
  auto read = [this](const std::filesystem::path& file, uint8_t version,
                     bool unframed_ok) -> storage::Result<std::optional<TopicTable>> {
    auto bytes = storage::read_whole_file(file, env_);
    if (!bytes.ok()) {
      if (bytes.code() == Errc::kNotFound) return std::optional<TopicTable>();
      return Status(bytes.code(), "cannot read " + file.string() + ": " + bytes.status().to_string());
    }
    std::vector<uint8_t> text;
    if (unframed_ok && !bytes->empty() && (*bytes)[0] == '{') {
      text = std::move(*bytes);  // topics.json before version 2
    } else {
      auto framed = storage::decode_framed(*bytes, file.filename().c_str());
      if (!framed.ok()) return Status(Errc::kCorruptSegment, "cannot read " + file.string() + ": " + framed.status().to_string());
      if (framed->version != version)
        return Status(Errc::kCorruptSegment,
                      "cannot read " + file.string() + ": unknown version " + std::to_string(framed->version));
      text = std::move(framed->payload);
    }
    auto table = decode_table(text);
    if (!table.ok()) return Status(Errc::kCorruptSegment, "cannot read " + file.string() + ": " + table.status().message());
    return std::optional<TopicTable>(std::move(*table));
  };
  auto snap = read(snapshot_path(), kSnapshotVersion, false);
  if (!snap.ok()) return snap.status();
  if (*snap) return std::move(**snap);
  if (legacy_.empty()) return TopicTable();
  auto legacy = read(legacy_, kLegacyFileVersion, true);
  if (!legacy.ok()) return legacy.status();
  if (!*legacy) return TopicTable();
  // topics.json becomes the first snapshot; it is removed once that is durable.
  // A log holding records without a snapshot was never written next to it.
  if (std::filesystem::exists(log_path()) && std::filesystem::file_size(log_path()) > 0)
    return Status(Errc::kCorruptSegment, "cannot migrate " + legacy_.string() + ": " + log_path().string() +
                                             " already holds commands but " + snapshot_path().string() + " is missing");
  TopicTable table((*legacy)->topics(), 0);
  if (Status s = write_snapshot(table); !s.ok()) return s;
  return table;
}

storage::Result<TopicCommandLog::Recovered> TopicCommandLog::open() {
  Recovered out;
  const bool migrating = !legacy_.empty() && std::filesystem::exists(legacy_) && !std::filesystem::exists(snapshot_path());
  // A missing log is created before the snapshot is written from topics.json,
  // so write_snapshot() below always finds it.
  if (!std::filesystem::exists(log_path())) {
    if (Status s = storage::write_file_at(log_path(), 0, {}, true, true, env_); !s.ok()) return s;
    if (Status s = env_->fsync_dir(dir_); !s.ok()) return s;
  }
  auto snap = read_snapshot();
  if (!snap.ok()) return snap.status();
  out.snapshot = std::move(*snap);
  if (migrating) out.notes.push_back("read " + legacy_.string() + " as the first snapshot of the topic table");
  if (!legacy_.empty() && std::filesystem::exists(legacy_)) {
    if (Status s = env_->remove_file(legacy_); !s.ok()) return s;
    if (Status s = env_->fsync_dir(legacy_.parent_path()); !s.ok()) return s;
  }
  if (Status s = read_records(out.snapshot.applied_offset(), out); !s.ok()) return s;
  return out;
}

Status TopicCommandLog::read_records(int64_t after, Recovered& out) {
  auto file = log_path();
  auto read = storage::read_whole_file(file, env_);
  if (!read.ok()) return Status(read.code(), "cannot read " + file.string() + ": " + read.status().to_string());
  const std::vector<uint8_t>& b = *read;
  const auto size = static_cast<int64_t>(b.size());
  int64_t pos = 0;
  int64_t expected = after + 1;
  std::optional<std::string> torn;
  while (pos < size) {
    const int64_t left = size - pos;
    if (left < static_cast<int64_t>(kLengthSize)) {
      torn = "a record header cut short";
      break;
    }
    const uint32_t n = read_u32(b.data() + pos);
    const int64_t end = pos + static_cast<int64_t>(kLengthSize) + n;
    if (n < kMinFramed) {
      if (std::all_of(b.begin() + pos, b.end(), [](uint8_t x) { return x == 0; })) {
        torn = "zeros";
        break;
      }
      return corrupt(file, pos, "record length " + std::to_string(n) + " is too short");
    }
    if (end > size) {
      torn = "a record cut short";
      break;
    }
    std::vector<uint8_t> framed_bytes(b.begin() + pos + kLengthSize, b.begin() + end);
    auto framed = storage::decode_framed(framed_bytes, "topic command");
    const bool last = end == size;
    if (!framed.ok() || framed->version != kRecordVersion) {
      std::string why = !framed.ok() ? framed.status().message() : "unknown version " + std::to_string(framed->version);
      if (last && !framed.ok()) {
        torn = "a last record failing its checksum";
        break;
      }
      return corrupt(file, pos, why);
    }
    auto cmd = decode_command(framed->payload);
    if (!cmd.ok()) return corrupt(file, pos, cmd.status().message());
    if (cmd->offset > after) {
      if (cmd->offset != expected)
        return corrupt(file, pos,
                       "command offset " + std::to_string(cmd->offset) + " where " + std::to_string(expected) +
                           " was expected");
      ++expected;
      out.commands.push_back(std::move(*cmd));
    }
    ++records_;
    pos = end;
  }
  if (torn) {
    out.notes.push_back("dropped a torn last record of " + file.string() + " (" + *torn + ", " +
                        std::to_string(size - pos) + " bytes at byte " + std::to_string(pos) + ")");
    if (Status s = storage::write_file_at(file, pos, {}, true, true, env_); !s.ok()) return s;
  }
  size_ = pos;
  last_offset_ = std::max(after, expected - 1);
  return Status::Ok();
}

Status TopicCommandLog::append(const LoggedCommand& c) {
  if (!broken_.ok()) return broken_;
  assert(c.offset == last_offset_ + 1);
  auto record = encode_record(c);
  Status s = storage::write_file_at(log_path(), size_, record, false, true, env_);
  if (!s.ok()) {
    // Nothing after a failed append may follow its bytes: cut them off, or stop.
    if (Status cut = storage::write_file_at(log_path(), size_, {}, true, true, env_); !cut.ok())
      broken_ = Status(Errc::kStorageError, "the topic command log is broken after a failed append (" +
                                                s.to_string() + ") and could not be cut back: " + cut.to_string());
    return s;
  }
  size_ += static_cast<int64_t>(record.size());
  ++records_;
  last_offset_ = c.offset;
  return Status::Ok();
}

Status TopicCommandLog::write_snapshot(const TopicTable& table) {
  if (!broken_.ok()) return broken_;
  auto bytes = storage::encode_framed(kSnapshotVersion, bytes_of(encode_table(table)));
  if (Status s = storage::write_file_atomic(snapshot_path(), bytes, env_); !s.ok()) return s;
  if (Status s = storage::write_file_at(log_path(), 0, {}, true, true, env_); !s.ok()) {
    broken_ = Status(Errc::kStorageError, "the topic command log could not be emptied after a snapshot: " + s.to_string());
    return broken_;
  }
  size_ = 0;
  records_ = 0;
  last_offset_ = std::max(last_offset_, table.applied_offset());
  return Status::Ok();
}

}  // namespace millrace::cluster
