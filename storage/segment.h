// Segment: one <base offset>.log file plus its two sparse indexes.
//
// <base>.log holds Kafka record batches v2 back to back, exactly as served to
// consumers (layout in protocol/record/batch_header.h); there is no extra
// framing, so the file is also Kafka's segment format. base offsets strictly
// increase through the file; the file name is the segment's base offset, 20
// digits, zero-padded. The first byte that does not start a whole, valid batch
// ends the segment: recovery truncates there.
//
// Appends go through a TailWriter (tail_writer.h): size() is the logical end
// (whole batches appended), file_size() what is in the file. Invariant: readers
// of the file (scan, find, Log::read) never look past file_size(); the owner
// calls write_out() first when it needs the tail. Indexes and the counters below
// are guarded by the owning Log's mutex; the FileHandle may be used from any
// thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/record/batch_header.h"
#include "storage/env.h"
#include "storage/file_region.h"
#include "storage/index_file.h"
#include "storage/status.h"
#include "storage/tail_writer.h"

namespace millrace::storage {

std::string segment_file_name(int64_t base_offset, const char* suffix);  // 20 digits + suffix
inline constexpr const char* kCleanedSuffix = ".log.cleaned";  // compaction's replacement, deleted by open()

struct BatchMeta {
  int64_t position;       // within the appended bytes
  int64_t base_offset;
  int64_t last_offset;
  int64_t max_timestamp;
  int32_t size;
};

// Outcome of a scan: how far the bytes were whole, valid batches.
struct ScanEnd {
  int64_t valid_bytes = 0;   // position of the first byte not part of a valid batch
  bool clean = true;         // false when bytes after valid_bytes were torn/corrupt
  std::string why;           // why the scan stopped early
};

// Called per valid batch during a scan; return false to stop.
using BatchVisitor = std::function<bool(int64_t position, const record::BatchHeader& header,
                                        std::span<const uint8_t> whole_batch)>;

class Segment {
 public:
  static Result<std::shared_ptr<Segment>> create(const std::filesystem::path& dir, int64_t base_offset, int64_t now_ms,
                                                 TailWriterOptions tail = {});
  // Opens an existing .log; indexes empty until load_indexes() or recover().
  static Result<std::shared_ptr<Segment>> open(const std::filesystem::path& dir, int64_t base_offset, int64_t now_ms,
                                               TailWriterOptions tail = {});

  int64_t base_offset() const { return base_offset_; }
  Env* env() const { return env_; }
  int64_t size() const { return tail_->end(); }             // logical end, whole batches
  int64_t file_size() const { return tail_->file_size(); }  // readable in the file
  bool pending() const { return tail_->pending(); }
  // Every batch below this offset is in the file (written out).
  int64_t written_next_offset() const { return pending() ? written_next_offset_ : next_offset_; }
  int64_t next_offset() const { return next_offset_; }
  int64_t max_timestamp() const { return max_timestamp_; }
  int64_t max_timestamp_offset() const { return max_timestamp_offset_; }
  int64_t created_ms() const { return created_ms_; }
  bool empty() const { return size() == 0; }
  std::shared_ptr<const FileHandle> file() const { return file_; }
  std::filesystem::path log_path() const;
  std::filesystem::path index_path() const;
  std::filesystem::path time_index_path() const;
  const OffsetIndex& offset_index() const { return index_; }
  const TimeIndex& time_index() const { return time_index_; }
  int64_t index_bytes() const { return index_.file_bytes() + time_index_.file_bytes(); }

  // Appends whole stamped batches at the end (to the tail buffer, or the file
  // when write-through). On failure the file is cut back to its previous size
  // and nothing in memory changes.
  Status append(std::span<const uint8_t> bytes, const std::vector<BatchMeta>& metas, int32_t index_interval_bytes);

  // Pending tail bytes -> file. On error they stay pending.
  Status write_out();
  // write_out(), return the buffer memory and the reserved blocks (roll, close, idle).
  Status finish_tail();

  // Reads batches from `from` to file_size(); stops at the first torn/invalid one.
  // With check_crc, a CRC mismatch also stops it.
  Result<ScanEnd> scan(int64_t from, bool check_crc, const BatchVisitor& visit) const;
  // Recovery: scans the whole file with CRC checks, rebuilds both indexes and
  // the counters, and truncates the file at the first bad byte.
  Result<ScanEnd> recover(int32_t index_interval_bytes, const BatchVisitor& visit);
  // Clean open: loads the index files (rebuilding from the .log when they fail
  // their checks) and reads the tail after the last index entry.
  Status load_indexes(int32_t index_interval_bytes);

  // First batch whose last offset >= offset, scanning from the index hint;
  // nullopt when the segment has none below `limit` bytes.
  struct Found { int64_t position; record::BatchHeader header; };
  Result<std::optional<Found>> find(int64_t offset, int64_t start_position, int64_t limit) const {
    return find_in(*file_, offset, start_position, limit);
  }
  // Same over a FileHandle captured under the Log mutex (reads outside it).
  static Result<std::optional<Found>> find_in(const FileHandle& file, int64_t offset, int64_t start_position,
                                              int64_t limit);
  int64_t index_lookup(int64_t offset) const;  // byte position to start a search at

  // Cuts the file at `position` (a batch boundary) and fixes indexes/counters.
  Status truncate_to_position(int64_t position, int64_t next_offset);
  Status flush();                        // write_out() + fdatasync of the .log
  Status sync_indexes(bool fsync);       // writes pending index entries
  void seal();                           // final time index entry (on roll)
  Status remove_files();                 // unlink .log and indexes
  Status remove_index_files();           // unlink the indexes (rebuilt from the .log at open)
  // Compaction. An empty replacement for the segment at base_offset:
  // <base>.log.cleaned (kCleanedSuffix), write-through; the cleaner streams
  // batches into it with append(), which builds its indexes as it goes.
  static Result<std::shared_ptr<Segment>> create_replacement(const std::filesystem::path& dir, int64_t base_offset,
                                                             int64_t now_ms, Env* env = nullptr);
  // Swaps a flushed replacement in for this segment's file: the old index
  // files go first (a crash never pairs them with the new .log; open()
  // rebuilds missing ones), the .cleaned file is renamed over the .log, and
  // the indexes and counters built while it was written are adopted, without
  // re-reading it. REQUIRES: this segment is sealed (nothing pending).
  Status replace_with(Segment& replacement);

 private:
  Segment(std::filesystem::path dir, int64_t base_offset, int64_t now_ms);
  void index_batch(int64_t position, int64_t base_offset, int64_t last_offset, int64_t max_timestamp, int32_t size,
                   int32_t index_interval_bytes);

  std::filesystem::path dir_;
  Env* env_ = nullptr;  // never null once created/opened
  int64_t base_offset_;
  std::shared_ptr<FileHandle> file_;
  std::unique_ptr<TailWriter> tail_;
  int64_t next_offset_;
  // One past the last batch's last offset, or lower (never higher: after a
  // truncation into a compacted gap next_offset_ is above the last batch).
  int64_t batches_end_;
  // While pending(): every batch with an offset below this is whole in the file.
  int64_t written_next_offset_;
  int64_t max_timestamp_ = -1;
  int64_t max_timestamp_offset_ = -1;
  int64_t created_ms_;
  int64_t bytes_since_index_ = 0;
  OffsetIndex index_;
  TimeIndex time_index_;
};

}  // namespace millrace::storage
