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

Result<std::vector<uint8_t>> read_whole_file(const std::filesystem::path& path, Env* env) {
  Env& e = *env_or_posix(env);
  int fd = e.open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    if (errno == ENOENT) return Status(Errc::kNotFound, path.string() + ": missing");
    return io_error("open " + path.string(), errno);
  }
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = e.pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      e.close(fd);
      return io_error("read " + path.string(), err);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  e.close(fd);
  return out;
}

Status write_file_at(const std::filesystem::path& path, int64_t offset, const std::vector<uint8_t>& bytes,
                     bool truncate_after, bool fsync, Env* env) {
  Env& e = *env_or_posix(env);
  int fd = e.open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open " + path.string(), errno);
  auto fail = [&](const char* what) {
    int err = errno;
    e.close(fd);
    return io_error(std::string(what) + " " + path.string(), err);
  };
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = e.pwrite(fd, bytes.data() + done, bytes.size() - done, offset + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    done += static_cast<size_t>(n);
  }
  if (truncate_after && e.ftruncate(fd, offset + static_cast<int64_t>(bytes.size())) != 0) return fail("truncate");
  if (fsync && e.fdatasync(fd) != 0) return fail("fdatasync");
  e.close(fd);
  return Status::Ok();
}

// ---- entry formats ----

struct OffsetFormat {
  static constexpr size_t kEntrySize = kOffsetEntrySize;
  static constexpr const char* kName = "offset index";
  static void write(wire::Writer& w, const OffsetEntry& e) { w.int32(e.relative_offset); w.int32(e.position); }
  static OffsetEntry read(wire::Reader& r) { return {r.int32(), r.int32()}; }
  // Why `e` (after `prev`, if any) is invalid, or nullptr.
  static const char* check(const OffsetEntry* prev, const OffsetEntry& e, int64_t log_size) {
    if (e.relative_offset < 0 || e.position < 0 || (log_size >= 0 && e.position >= log_size))
      return "entry out of range";
    if (prev && (e.relative_offset <= prev->relative_offset || e.position <= prev->position))
      return "entries not increasing";
    return nullptr;
  }
};

struct TimeFormat {
  static constexpr size_t kEntrySize = kTimeEntrySize;
  static constexpr const char* kName = "time index";
  static void write(wire::Writer& w, const TimeEntry& e) { w.int64(e.timestamp); w.int32(e.relative_offset); }
  static TimeEntry read(wire::Reader& r) { return {r.int64(), r.int32()}; }
  static const char* check(const TimeEntry* prev, const TimeEntry& e, int64_t) {
    if (e.relative_offset < 0) return "negative offset";
    if (prev && (e.timestamp <= prev->timestamp || e.relative_offset < prev->relative_offset))
      return "entries not increasing";
    return nullptr;
  }
};

// ---- shared by both indexes ----

template <typename Entry, typename Format>
int64_t SparseIndex<Entry, Format>::file_bytes() const {
  return static_cast<int64_t>(kIndexHeaderSize + entries_.size() * Format::kEntrySize);
}

template <typename Entry, typename Format>
std::vector<uint8_t> SparseIndex<Entry, Format>::encode(const std::vector<Entry>& entries) {
  std::vector<uint8_t> out = header();
  wire::Writer w(out);
  for (const auto& e : entries) Format::write(w, e);
  return out;
}

template <typename Entry, typename Format>
Result<std::vector<Entry>> SparseIndex<Entry, Format>::decode_entries(const std::vector<uint8_t>& bytes,
                                                                      int64_t log_size) {
  if (Status s = check_header(bytes, Format::kEntrySize, Format::kName); !s.ok()) return s;
  wire::Reader r(std::span<const uint8_t>(bytes).subspan(kIndexHeaderSize));
  std::vector<Entry> out;
  while (!r.at_end()) {
    Entry e = Format::read(r);
    if (const char* why = Format::check(out.empty() ? nullptr : &out.back(), e, log_size))
      return Status(Errc::kCorruptSegment, std::string(Format::kName) + ": " + why);
    out.push_back(e);
  }
  return out;
}

template <typename Entry, typename Format>
Status SparseIndex<Entry, Format>::sync(const std::filesystem::path& path, bool fsync, Env* env) {
  if (persisted_ == entries_.size() && !dirty_trim_ && !(fsync && unsynced_)) return Status::Ok();
  std::vector<uint8_t> bytes;
  int64_t at = 0;
  if (persisted_ == 0) {
    bytes = encode(entries_);
  } else {
    at = static_cast<int64_t>(kIndexHeaderSize + persisted_ * Format::kEntrySize);
    wire::Writer w(bytes);
    for (size_t i = persisted_; i < entries_.size(); ++i) Format::write(w, entries_[i]);
  }
  if (Status s = write_file_at(path, at, bytes, dirty_trim_ || persisted_ == 0, fsync, env); !s.ok()) return s;
  persisted_ = entries_.size();
  dirty_trim_ = false;
  unsynced_ = !fsync;
  return Status::Ok();
}

template class SparseIndex<OffsetEntry, OffsetFormat>;
template class SparseIndex<TimeEntry, TimeFormat>;

// ---- offset index ----

OffsetEntry OffsetIndex::lookup(int32_t rel) const {
  const OffsetEntry* e = last_where([rel](const OffsetEntry& x) { return x.relative_offset <= rel; });
  return e ? *e : OffsetEntry{0, 0};
}

void OffsetIndex::truncate_to_position(int64_t position) {
  keep_where([position](const OffsetEntry& x) { return x.position < position; });
}

Result<OffsetIndex> OffsetIndex::load(const std::filesystem::path& path, int64_t log_size, Env* env) {
  auto bytes = read_whole_file(path, env);
  if (!bytes.ok()) return bytes.status();
  auto entries = decode(*bytes, log_size);
  if (!entries.ok()) return Status(Errc::kCorruptSegment, path.string() + ": " + entries.status().message());
  OffsetIndex idx;
  idx.adopt(std::move(*entries));
  return idx;
}

// ---- time index ----

void TimeIndex::maybe_append(TimeEntry e) {
  if (!entries_.empty() && e.timestamp <= entries_.back().timestamp) return;
  if (!entries_.empty() && e.relative_offset < entries_.back().relative_offset) return;
  entries_.push_back(e);
}

TimeEntry TimeIndex::lookup_before(int64_t ts) const {
  const TimeEntry* e = last_where([ts](const TimeEntry& x) { return x.timestamp < ts; });
  return e ? *e : TimeEntry{-1, 0};
}

void TimeIndex::truncate_to_offset(int32_t rel) {
  keep_where([rel](const TimeEntry& x) { return x.relative_offset < rel; });
}

Result<TimeIndex> TimeIndex::load(const std::filesystem::path& path, Env* env) {
  auto bytes = read_whole_file(path, env);
  if (!bytes.ok()) return bytes.status();
  auto entries = decode(*bytes);
  if (!entries.ok()) return Status(Errc::kCorruptSegment, path.string() + ": " + entries.status().message());
  TimeIndex idx;
  idx.adopt(std::move(*entries));
  return idx;
}

}  // namespace millrace::storage
