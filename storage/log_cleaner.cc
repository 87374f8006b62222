// Log compaction (cleanup.policy=compact): keep the latest record per key,
// in bounded memory (Kafka's LogCleaner).
//
// Cleanable range: the segments below the active one whose data is all below
// the high watermark; it ends at `end` (the base offset of the first segment
// that is not cleanable). Dirty range: [cleaner_offset, end), what no pass has
// looked at yet (cleaner_offset is in partition.checkpoint).
//
// Pass 1 puts key hash -> latest offset for the dirty records into an
// OffsetMap of LogOptions::cleaner_dedupe_buffer_bytes (offset_map.h),
// reading from the batch that holds cleaner_offset. When the map fills, the
// pass stops there: `map_end` is the offset of the first record that did not
// fit, and the rest is left for the next pass.
//
// Pass 2 rewrites every segment that starts below map_end, from the log's
// first segment on, keeping a record when
//   - its offset is >= map_end (the map has not seen it), or it has no key,
//     or it is in a control batch, or its batch's records cannot be read;
//   - otherwise when its offset is >= the map's offset for its key (no later
//     record of the key below map_end), unless it is a tombstone whose batch's
//     max timestamp is older than delete.retention.ms (then it goes).
// Records below cleaner_offset were cleaned before: each is already the latest
// of its key in what earlier passes saw, so it goes only when the key appears
// again in this pass's map (or it is an expired tombstone). A tombstone goes
// only after every older record of its key: they are below it, in this
// segment or an earlier one, and segments are swapped in offset order with the
// directory fsynced after each swap.
//
// A segment is rewritten only once a batch in it loses a record (the batches
// before that one are copied then). The new file, <base>.log.cleaned, is
// streamed in 1 MiB writes (never held whole in memory), its indexes built as
// it is written, fsynced, and swapped in under the log mutex without being
// re-read (Segment::replace_with). A batch that loses records is rebuilt as
// one batch per run of consecutive kept offsets, so offsets never change.
// Appends continue during both passes: they only touch the active segment,
// which is never cleaned. A segment left empty is deleted. A crash mid-way
// leaves a .cleaned file that open() deletes; rename is atomic. When the pass
// completes, cleaner_offset moves to map_end.
//
// Memory: the map, plus a 1 MiB write chunk, the scan buffer and one batch's
// decoded records.
#include <string>
#include <vector>

#include "protocol/record/batch_builder.h"
#include "protocol/record/record_reader.h"
#include "storage/checkpoint.h"
#include "storage/log.h"
#include "storage/log_state.h"
#include "storage/offset_map.h"

namespace millrace::storage {

namespace {

constexpr size_t kWriteChunk = 1 << 20;

// Batches on their way into a replacement segment, written in chunks.
class ReplacementWriter {
 public:
  ReplacementWriter(std::shared_ptr<Segment> out, int32_t index_interval_bytes)
      : out_(std::move(out)), interval_(index_interval_bytes) {}

  const std::shared_ptr<Segment>& segment() const { return out_; }
  Status copy(std::span<const uint8_t> whole) {
    size_t at = chunk_.size();
    chunk_.insert(chunk_.end(), whole.begin(), whole.end());
    return added(at);
  }
  // Build a batch in place: BatchBuilder::finish(buffer()), then added(at).
  std::vector<uint8_t>& buffer() { return chunk_; }
  Status added(size_t at) {
    auto hr = record::parse_batch_header(std::span<const uint8_t>(chunk_).subspan(at));
    if (hr.error != record::BatchError::kOk)
      return Status(Errc::kCorruptSegment, std::string("compaction built a bad batch: ") + record::to_string(hr.error));
    const auto& h = hr.header;
    metas_.push_back({static_cast<int64_t>(at), h.base_offset, h.last_offset(), h.max_timestamp,
                      static_cast<int32_t>(h.total_size())});
    return chunk_.size() >= kWriteChunk ? write() : Status::Ok();
  }
  // Everything written and fsynced.
  Status finish() {
    if (Status st = write(); !st.ok()) return st;
    return out_->flush();
  }

 private:
  Status write() {
    if (chunk_.empty()) return Status::Ok();
    Status st = out_->append(chunk_, metas_, interval_);
    chunk_.clear();
    metas_.clear();
    return st;
  }

  std::shared_ptr<Segment> out_;
  int32_t interval_;
  std::vector<uint8_t> chunk_;
  std::vector<BatchMeta> metas_;
};

// What pass 2 keeps (the rule at the top of this file).
struct RetainRule {
  const OffsetMap& map;
  int64_t map_end;
  int64_t delete_horizon;

  bool keep(const record::BatchHeader& h, const record::Record& r) const {
    const int64_t o = record::record_offset(h, r);
    if (o >= map_end || !r.key) return true;
    if (o < map.get(*r.key)) return false;
    return r.value.has_value() || h.max_timestamp >= delete_horizon;
  }
};

// Pass 1 over `segs` from byte `from_position` of the first: puts every keyed
// record at offsets in [start, end) into the map. Returns map_end (`end` when
// everything fit).
Result<int64_t> build_map(const std::vector<std::shared_ptr<Segment>>& segs, int64_t from_position, int64_t start,
                          int64_t end, OffsetMap& map) {
  std::vector<uint8_t> scratch;
  int64_t full_at = -1;
  for (size_t i = 0; i < segs.size() && full_at < 0; ++i) {
    auto r = segs[i]->scan(i == 0 ? from_position : 0, false,
                           [&](int64_t, const record::BatchHeader& h, std::span<const uint8_t> whole) {
      if (h.is_control() || h.last_offset() < start) return true;
      record::for_each_record(whole, [&](const record::Record& rec) {
        const int64_t o = record::record_offset(h, rec);
        if (o < start || !rec.key) return true;
        if (!map.put(*rec.key, o)) {
          full_at = o;
          return false;
        }
        return true;
      }, scratch);
      return full_at < 0;
    });
    if (!r.ok()) return r.status();
  }
  return full_at < 0 ? end : full_at;
}

// Pass 2 for one segment: its replacement, or null when every record stays.
Result<std::shared_ptr<Segment>> clean_segment(const Segment& seg, const std::filesystem::path& dir,
                                               const RetainRule& rule, int32_t index_interval_bytes, int64_t now_ms,
                                               int64_t& removed) {
  std::unique_ptr<ReplacementWriter> out;
  Status error;
  std::vector<uint8_t> scratch;
  std::vector<record::Record> recs;
  std::vector<bool> keep;
  auto r = seg.scan(0, false, [&](int64_t pos, const record::BatchHeader& h, std::span<const uint8_t> whole) {
    recs.clear();
    keep.clear();
    size_t kept = 0;
    if (!h.is_control() && h.base_offset < rule.map_end) {
      record::RecordReader reader(whole, scratch);
      record::Record rec;
      while (reader.next(rec)) recs.push_back(rec);
      if (!reader.status().ok()) recs.clear();  // unreadable records: the batch stays as it is
      for (const auto& x : recs) {
        keep.push_back(rule.keep(h, x));
        kept += keep.back();
      }
    }
    if (kept == recs.size()) {  // nothing to drop
      if (out) error = out->copy(whole);
      return error.ok();
    }
    if (!out) {  // the first change: start the replacement with the batches before this one
      auto created = Segment::create_replacement(dir, seg.base_offset(), now_ms, seg.env());
      if (!created.ok()) {
        error = created.status();
        return false;
      }
      out = std::make_unique<ReplacementWriter>(std::move(*created), index_interval_bytes);
      auto prefix = seg.scan(0, false, [&](int64_t p, const record::BatchHeader&, std::span<const uint8_t> w) {
        if (p >= pos) return false;
        error = out->copy(w);
        return error.ok();
      });
      if (!prefix.ok()) error = prefix.status();
      if (!error.ok()) return false;
    }
    removed += static_cast<int64_t>(recs.size() - kept);
    // One batch per run of consecutive kept offsets.
    size_t i = 0;
    while (i < recs.size()) {
      if (!keep[i]) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j + 1 < recs.size() && keep[j + 1] && recs[j + 1].offset_delta == recs[j].offset_delta + 1) ++j;
      record::BatchOptions o;
      o.base_offset = record::record_offset(h, recs[i]);
      o.partition_leader_epoch = h.partition_leader_epoch;
      o.producer_id = h.producer_id;
      o.producer_epoch = h.producer_epoch;
      o.base_sequence = h.base_sequence < 0 ? -1 : h.base_sequence + recs[i].offset_delta;
      o.transactional = h.is_transactional();
      o.compression = h.compression();
      o.timestamp_type = h.timestamp_type();
      record::BatchBuilder b(o);
      for (size_t k = i; k <= j; ++k)
        b.append(record::record_timestamp(h, recs[k]), recs[k].key, recs[k].value, recs[k].headers);
      size_t at = out->buffer().size();
      if (!b.finish(out->buffer()).ok()) {
        error = Status(Errc::kCorruptSegment, "compaction could not rebuild the batch at " + std::to_string(pos));
        return false;
      }
      error = out->added(at);
      if (!error.ok()) return false;
      i = j + 1;
    }
    return true;
  });
  if (!r.ok()) return r.status();
  if (!error.ok()) return error;
  if (!out) return std::shared_ptr<Segment>();
  if (Status st = out->finish(); !st.ok()) return st;
  return out->segment();
}

}  // namespace

double Log::dirty_ratio() const {
  std::lock_guard lock(s_->mu);
  int64_t clean = 0, dirty = 0;
  for (auto it = s_->segments.begin(); it != s_->segments.end() && std::next(it) != s_->segments.end(); ++it) {
    if (std::next(it)->first > s_->hw) break;
    if (std::next(it)->first <= s_->cleaner_offset) clean += it->second->size();
    else dirty += it->second->size();
  }
  return clean + dirty == 0 ? 0.0 : static_cast<double>(dirty) / static_cast<double>(clean + dirty);
}

Result<CompactionStats> Log::compact() {
  LogConfig c = config();
  if (!c.cleanup_compact) return CompactionStats{};
  double ratio = dirty_ratio();
  if (ratio <= 0 || ratio < c.min_cleanable_dirty_ratio) return CompactionStats{};
  return compact_now();
}

Result<CompactionStats> Log::compact_now() {
  State& s = *s_;
  std::lock_guard compaction(s.compact_mu);
  std::vector<std::shared_ptr<Segment>> segs;   // the cleanable range
  std::vector<std::shared_ptr<Segment>> dirty;  // its segments from the one holding `start`
  int64_t start = 0, end = 0, start_position = 0, delete_horizon = 0, dedupe_bytes = 0;
  int32_t interval = 0;
  {
    std::lock_guard lock(s.mu);
    if (s.closed) return Status(Errc::kClosed, dir_.string());
    start = std::max(s.cleaner_offset, s.log_start);
    for (auto it = s.segments.begin(); it != s.segments.end() && std::next(it) != s.segments.end(); ++it) {
      if (std::next(it)->first > s.hw) break;
      segs.push_back(it->second);
      end = std::next(it)->first;
      if (end > start) {
        if (dirty.empty()) start_position = it->second->index_lookup(start);
        dirty.push_back(it->second);
      }
    }
    delete_horizon = s.opts.clock() - s.opts.config.delete_retention_ms;
    interval = s.opts.config.index_interval_bytes;
    dedupe_bytes = s.opts.cleaner_dedupe_buffer_bytes;
  }
  CompactionStats stats;
  if (dirty.empty()) return stats;

  OffsetMap map(dedupe_bytes);
  auto map_end = build_map(dirty, start_position, start, end, map);
  if (!map_end.ok()) return map_end.status();
  const RetainRule rule{map, *map_end, delete_horizon};

  for (const auto& seg : segs) {
    if (seg->base_offset() >= rule.map_end) break;
    int64_t removed = 0;
    auto replacement = clean_segment(*seg, dir_, rule, interval, s.opts.clock(), removed);
    // A failed write of the cleaned copy is a write error like any other:
    // fail-stop (storage/log_dir_health.h); anything else (a batch that does not
    // parse) leaves the log usable and this pass undone.
    if (!replacement.ok()) {
      const Status& st = replacement.status();
      return st.code() == Errc::kStorageError || st.code() == Errc::kStorageFull ? s.fail(st) : st;
    }
    if (!*replacement) continue;
    {
      std::lock_guard lock(s.mu);
      auto it = s.segments.find(seg->base_offset());
      if (s.closed || it == s.segments.end() || it->second != seg) {  // deleted meanwhile
        (void)s.env().remove_file(dir_ / segment_file_name(seg->base_offset(), kCleanedSuffix));
        continue;
      }
      stats.bytes_before += seg->size();
      if (Status st = seg->replace_with(**replacement); !st.ok()) return s.fail(st);
      stats.bytes_after += seg->size();
      stats.records_removed += removed;
      ++stats.segments_cleaned;
      // A segment left empty goes (never the active one, which is not cleaned).
      if (seg->empty() && it->first != s.segments.rbegin()->first) s.remove_segment_locked(it);
    }
    // Durable before the next segment's swap (the tombstone rule relies on it).
    if (Status st = fsync_dir(dir_, &s.env()); !st.ok()) return s.fail(st);
  }
  std::lock_guard lock(s.mu);
  s.cleaner_offset = std::max(s.cleaner_offset, rule.map_end);
  return stats;
}

}  // namespace millrace::storage
