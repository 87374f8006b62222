// The two sparse per-segment indexes. Both are rebuildable caches of the .log:
// recovery rebuilds them, and open() discards a file that fails its checks.
//
// <base>.index (offset index):
//   +---------+----------+   then N entries of 8 bytes, sorted:
//   | version | reserved |   +---------------------+-----------------+
//   |  u8 = 1 | 7 zeros  |   | relative offset i32 | position i32    |  (big-endian)
//   +---------+----------+   +---------------------+-----------------+
//   relative offset = batch base offset - segment base offset; position = byte
//   position of that batch in the .log. One entry per index.interval.bytes.
//
// <base>.timeindex (time index):
//   same 8-byte header, then N entries of 12 bytes:
//   | timestamp i64 | relative offset i32 |   (big-endian)
//   timestamp = largest max timestamp seen so far in the segment, offset = the
//   batch base offset where it was seen. Timestamps strictly increase.
//
// Checks on load (kCorruptSegment on failure): header version, size = header +
// whole entries, strictly increasing keys, positions < the .log size.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace millrace::storage {

inline constexpr uint8_t kIndexVersion = 1;
inline constexpr size_t kIndexHeaderSize = 8;
inline constexpr size_t kOffsetEntrySize = 8;
inline constexpr size_t kTimeEntrySize = 12;

struct OffsetEntry {
  int32_t relative_offset;
  int32_t position;
};

struct TimeEntry {
  int64_t timestamp;
  int32_t relative_offset;
};

// In-memory index with write-behind to its file: sync() writes the entries
// appended since the last sync (and trims the file after a truncation). The
// two indexes share everything but their entry layout and lookups: Format
// (OffsetFormat / TimeFormat in index_file.cc) names the entry size, encodes
// one entry and checks one against the one before it.
// Not thread-safe: owned by a Segment, guarded by the Log mutex.
template <typename Entry, typename Format>
class SparseIndex {
 public:
  const std::vector<Entry>& entries() const { return entries_; }
  void clear() { entries_.clear(); persisted_ = 0; dirty_trim_ = true; }
  int64_t file_bytes() const;
  Status sync(const std::filesystem::path& path, bool fsync, Env* env = nullptr);
  static std::vector<uint8_t> encode(const std::vector<Entry>& entries);

 protected:
  // REQUIRES: `below` is true for a prefix of the entries (they are sorted).
  // The last entry of that prefix, or nullptr when the prefix is empty.
  template <typename Pred>
  const Entry* last_where(Pred below) const {
    auto it = std::partition_point(entries_.begin(), entries_.end(), below);
    return it == entries_.begin() ? nullptr : &*std::prev(it);
  }
  // Drops the entries after the prefix where `keep` is true.
  template <typename Pred>
  void keep_where(Pred keep) {
    size_t n = static_cast<size_t>(std::partition_point(entries_.begin(), entries_.end(), keep) - entries_.begin());
    if (n == entries_.size()) return;
    entries_.resize(n);
    if (persisted_ > n) { persisted_ = n; dirty_trim_ = true; }
  }
  // log_size < 0: positions are not checked.
  static Result<std::vector<Entry>> decode_entries(const std::vector<uint8_t>& bytes, int64_t log_size);
  // A file read back: its entries are persisted and synced.
  void adopt(std::vector<Entry> entries) {
    entries_ = std::move(entries);
    persisted_ = entries_.size();
    dirty_trim_ = unsynced_ = false;
  }

  std::vector<Entry> entries_;

 private:
  size_t persisted_ = 0;
  bool dirty_trim_ = true;
  bool unsynced_ = true;  // written since the last fsync
};

struct OffsetFormat;
struct TimeFormat;

class OffsetIndex : public SparseIndex<OffsetEntry, OffsetFormat> {
 public:
  void append(OffsetEntry e) { entries_.push_back(e); }
  // Largest entry with relative_offset <= rel; {0, 0} when none.
  OffsetEntry lookup(int32_t rel) const;
  void truncate_to_position(int64_t position);  // drops entries at >= position
  static Result<OffsetIndex> load(const std::filesystem::path& path, int64_t log_size, Env* env = nullptr);
  static Result<std::vector<OffsetEntry>> decode(const std::vector<uint8_t>& bytes, int64_t log_size) {
    return decode_entries(bytes, log_size);
  }
};

class TimeIndex : public SparseIndex<TimeEntry, TimeFormat> {
 public:
  // Appends only when ts is larger than the last entry's timestamp.
  void maybe_append(TimeEntry e);
  // A scan start for the first batch with timestamp >= ts: the largest entry
  // with timestamp < ts; {-1, 0} when none.
  TimeEntry lookup_before(int64_t ts) const;
  void truncate_to_offset(int32_t rel);  // drops entries at relative offset >= rel
  static Result<TimeIndex> load(const std::filesystem::path& path, Env* env = nullptr);
  static Result<std::vector<TimeEntry>> decode(const std::vector<uint8_t>& bytes) { return decode_entries(bytes, -1); }
};

// Small file helpers shared by the storage formats (env null: Env::posix()).
Result<std::vector<uint8_t>> read_whole_file(const std::filesystem::path& path, Env* env = nullptr);
// Writes at `offset` (creating the file), optionally truncating to offset+size
// first, then fdatasync when asked.
Status write_file_at(const std::filesystem::path& path, int64_t offset, const std::vector<uint8_t>& bytes,
                     bool truncate_after, bool fsync, Env* env = nullptr);

}  // namespace millrace::storage
