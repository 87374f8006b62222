#include "storage/index_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::storage {
namespace {

std::vector<uint8_t> header() {
  std::vector<uint8_t> h(kIndexHeaderSize, 0);
  h[0] = kIndexVersion;
  return h;
}

Status check_header(const std::vector<uint8_t>& bytes, size_t entry_size, const char* what) {
  if (bytes.size() < kIndexHeaderSize) return Status(Errc::kCorruptSegment, std::string(what) + ": short header");
  if (bytes[0] != kIndexVersion)
    return Status(Errc::kCorruptSegment, std::string(what) + ": unknown version " + std::to_string(bytes[0]));
  if ((bytes.size() - kIndexHeaderSize) % entry_size != 0)
    return Status(Errc::kCorruptSegment, std::string(what) + ": partial entry");
  return Status::Ok();
}

}  // namespace

Result<std::vector<uint8_t>> read_whole_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status(Errc::kNotFound, path.string() + ": missing");
    return io_error("open " + path.string(), errno);
  }
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return io_error("read " + path.string(), e);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

Status write_file_at(const std::filesystem::path& path, int64_t offset, const std::vector<uint8_t>& bytes,
                     bool truncate_after, bool fsync) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open " + path.string(), errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, offset + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return io_error("write " + path.string(), e);
    }
    done += static_cast<size_t>(n);
  }
  if (truncate_after && ::ftruncate(fd, offset + static_cast<int64_t>(bytes.size())) != 0) {
    int e = errno;
    ::close(fd);
    return io_error("truncate " + path.string(), e);
  }
  if (fsync && ::fdatasync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return io_error("fdatasync " + path.string(), e);
  }
  ::close(fd);
  return Status::Ok();
}

// ---- offset index ----

OffsetEntry OffsetIndex::lookup(int32_t rel) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), rel,
                             [](int32_t r, const OffsetEntry& e) { return r < e.relative_offset; });
  if (it == entries_.begin()) return {0, 0};
  return *std::prev(it);
}

void OffsetIndex::truncate_to_position(int64_t position) {
  size_t keep = entries_.size();
  while (keep > 0 && entries_[keep - 1].position >= position) --keep;
  if (keep < entries_.size()) {
    entries_.resize(keep);
    if (persisted_ > keep) { persisted_ = keep; dirty_trim_ = true; }
  }
}

std::vector<uint8_t> OffsetIndex::encode(const std::vector<OffsetEntry>& entries) {
  std::vector<uint8_t> out = header();
  wire::Writer w(out);
  for (const auto& e : entries) { w.int32(e.relative_offset); w.int32(e.position); }
  return out;
}

Result<std::vector<OffsetEntry>> OffsetIndex::decode(const std::vector<uint8_t>& bytes, int64_t log_size) {
  if (Status s = check_header(bytes, kOffsetEntrySize, "offset index"); !s.ok()) return s;
  wire::Reader r(std::span<const uint8_t>(bytes).subspan(kIndexHeaderSize));
  std::vector<OffsetEntry> out;
  while (!r.at_end()) {
    OffsetEntry e{r.int32(), r.int32()};
    if (e.relative_offset < 0 || e.position < 0 || e.position >= log_size)
      return Status(Errc::kCorruptSegment, "offset index: entry out of range");
    if (!out.empty() && (e.relative_offset <= out.back().relative_offset || e.position <= out.back().position))
      return Status(Errc::kCorruptSegment, "offset index: entries not increasing");
    out.push_back(e);
  }
  return out;
}

Status OffsetIndex::sync(const std::filesystem::path& path, bool fsync) {
  if (persisted_ == entries_.size() && !dirty_trim_ && !(fsync && unsynced_)) return Status::Ok();
  std::vector<uint8_t> bytes;
  int64_t at = 0;
  if (persisted_ == 0) {
    bytes = encode(entries_);
  } else {
    at = static_cast<int64_t>(kIndexHeaderSize + persisted_ * kOffsetEntrySize);
    wire::Writer w(bytes);
    for (size_t i = persisted_; i < entries_.size(); ++i) { w.int32(entries_[i].relative_offset); w.int32(entries_[i].position); }
  }
  if (Status s = write_file_at(path, at, bytes, dirty_trim_ || persisted_ == 0, fsync); !s.ok()) return s;
  persisted_ = entries_.size();
  dirty_trim_ = false;
  unsynced_ = !fsync;
  return Status::Ok();
}

Result<OffsetIndex> OffsetIndex::load(const std::filesystem::path& path, int64_t log_size) {
  auto bytes = read_whole_file(path);
  if (!bytes.ok()) return bytes.status();
  auto entries = decode(*bytes, log_size);
  if (!entries.ok()) return Status(Errc::kCorruptSegment, path.string() + ": " + entries.status().message());
  OffsetIndex idx;
  idx.entries_ = std::move(*entries);
  idx.persisted_ = idx.entries_.size();
  idx.dirty_trim_ = false;
  idx.unsynced_ = false;
  return idx;
}

// ---- time index ----

void TimeIndex::maybe_append(TimeEntry e) {
  if (!entries_.empty() && e.timestamp <= entries_.back().timestamp) return;
  if (!entries_.empty() && e.relative_offset < entries_.back().relative_offset) return;
  entries_.push_back(e);
}

TimeEntry TimeIndex::lookup_before(int64_t ts) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), ts,
                             [](const TimeEntry& e, int64_t t) { return e.timestamp < t; });
  if (it == entries_.begin()) return {-1, 0};
  return *std::prev(it);
}

void TimeIndex::truncate_to_offset(int32_t rel) {
  size_t keep = entries_.size();
  while (keep > 0 && entries_[keep - 1].relative_offset >= rel) --keep;
  if (keep < entries_.size()) {
    entries_.resize(keep);
    if (persisted_ > keep) { persisted_ = keep; dirty_trim_ = true; }
  }
}

std::vector<uint8_t> TimeIndex::encode(const std::vector<TimeEntry>& entries) {
  std::vector<uint8_t> out = header();
  wire::Writer w(out);
  for (const auto& e : entries) { w.int64(e.timestamp); w.int32(e.relative_offset); }
  return out;
}

Result<std::vector<TimeEntry>> TimeIndex::decode(const std::vector<uint8_t>& bytes) {
  if (Status s = check_header(bytes, kTimeEntrySize, "time index"); !s.ok()) return s;
  wire::Reader r(std::span<const uint8_t>(bytes).subspan(kIndexHeaderSize));
  std::vector<TimeEntry> out;
  while (!r.at_end()) {
    TimeEntry e{r.int64(), r.int32()};
    if (e.relative_offset < 0) return Status(Errc::kCorruptSegment, "time index: negative offset");
    if (!out.empty() && (e.timestamp <= out.back().timestamp || e.relative_offset < out.back().relative_offset))
      return Status(Errc::kCorruptSegment, "time index: entries not increasing");
    out.push_back(e);
  }
  return out;
}

Status TimeIndex::sync(const std::filesystem::path& path, bool fsync) {
  if (persisted_ == entries_.size() && !dirty_trim_ && !(fsync && unsynced_)) return Status::Ok();
  std::vector<uint8_t> bytes;
  int64_t at = 0;
  if (persisted_ == 0) {
    bytes = encode(entries_);
  } else {
    at = static_cast<int64_t>(kIndexHeaderSize + persisted_ * kTimeEntrySize);
    wire::Writer w(bytes);
    for (size_t i = persisted_; i < entries_.size(); ++i) { w.int64(entries_[i].timestamp); w.int32(entries_[i].relative_offset); }
  }
  if (Status s = write_file_at(path, at, bytes, dirty_trim_ || persisted_ == 0, fsync); !s.ok()) return s;
  persisted_ = entries_.size();
  dirty_trim_ = false;
  unsynced_ = !fsync;
  return Status::Ok();
}

Result<TimeIndex> TimeIndex::load(const std::filesystem::path& path) {
  auto bytes = read_whole_file(path);
  if (!bytes.ok()) return bytes.status();
  auto entries = decode(*bytes);
  if (!entries.ok()) return Status(Errc::kCorruptSegment, path.string() + ": " + entries.status().message());
  TimeIndex idx;
  idx.entries_ = std::move(*entries);
  idx.persisted_ = idx.entries_.size();
  idx.dirty_trim_ = false;
  idx.unsynced_ = false;
  return idx;
}

}  // namespace millrace::storage
