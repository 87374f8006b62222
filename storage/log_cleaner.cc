// Log compaction (cleanup.policy=compact): keep the latest record per key.
//
// Range: the segments below the active one whose data is all below the high
// watermark. Pass 1 maps key -> latest offset over that range. Pass 2 rewrites
// each segment into <base>.log.cleaned with only the records that are the
// latest for their key (tombstones only while younger than
// delete.retention.ms; records without a key and control batches are kept),
// then swaps it in under the log mutex (rename over the .log, indexes rebuilt).
// A batch that loses records is rebuilt as one batch per run of consecutive
// kept offsets, so offsets never change. Appends continue during both passes:
// they only touch the active segment, which is never cleaned.
// A segment left empty is deleted. A crash mid-way leaves a .cleaned file that
// open() deletes; rename is atomic.
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <unordered_map>

#include "protocol/record/batch_builder.h"
#include "protocol/record/record_reader.h"
#include "storage/index_file.h"
#include "storage/log.h"
#include "storage/log_state.h"

namespace millrace::storage {

namespace {

struct Run {
  std::vector<const record::Record*> records;
};

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
  std::vector<std::shared_ptr<Segment>> segs;
  int64_t end_offset = 0, delete_horizon = 0;
  {
    std::lock_guard lock(s.mu);
    if (s.closed) return Status(Errc::kClosed, dir_.string());
    for (auto it = s.segments.begin(); it != s.segments.end() && std::next(it) != s.segments.end(); ++it) {
      if (std::next(it)->first > s.hw) break;
      segs.push_back(it->second);
      end_offset = std::next(it)->first;
    }
    delete_horizon = s.opts.clock() - s.opts.config.delete_retention_ms;
  }
  CompactionStats stats;
  if (segs.empty()) return stats;

  // Pass 1: latest offset per key.
  std::unordered_map<std::string, int64_t> latest;
  std::vector<uint8_t> scratch;
  for (const auto& seg : segs) {
    auto r = seg->scan(0, false, [&](int64_t, const record::BatchHeader& h, std::span<const uint8_t> whole) {
      if (h.is_control()) return true;
      record::for_each_record(whole, [&](const record::Record& rec) {
        if (rec.key) latest[std::string(record::as_string(*rec.key))] = record::record_offset(h, rec);
        return true;
      }, scratch);
      return true;
    });
    if (!r.ok()) return r.status();
  }

  // Pass 2: rewrite each segment.
  for (const auto& seg : segs) {
    std::vector<uint8_t> out;
    int64_t removed = 0;
    auto r = seg->scan(0, false, [&](int64_t, const record::BatchHeader& h, std::span<const uint8_t> whole) {
      if (h.is_control()) {
        out.insert(out.end(), whole.begin(), whole.end());
        return true;
      }
      std::vector<uint8_t> batch_scratch;
      record::RecordReader reader(whole, batch_scratch);
      std::vector<record::Record> recs;
      record::Record rec;
      while (reader.next(rec)) recs.push_back(rec);
      if (!reader.status().ok()) {  // unreadable records: keep the batch as it is
        out.insert(out.end(), whole.begin(), whole.end());
        return true;
      }
      std::vector<bool> keep(recs.size());
      size_t kept = 0;
      for (size_t i = 0; i < recs.size(); ++i) {
        const auto& x = recs[i];
        bool k = true;
        if (x.key) {
          auto it = latest.find(std::string(record::as_string(*x.key)));
          k = it != latest.end() && it->second == record::record_offset(h, x);
          if (k && !x.value && h.max_timestamp < delete_horizon) k = false;  // expired tombstone
        }
        keep[i] = k;
        kept += k;
      }
      removed += static_cast<int64_t>(recs.size() - kept);
      if (kept == recs.size()) {
        out.insert(out.end(), whole.begin(), whole.end());
        return true;
      }
      // One batch per run of consecutive kept offsets.
      size_t i = 0;
      while (i < recs.size()) {
        if (!keep[i]) { ++i; continue; }
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
        if (!b.finish(out).ok()) return false;
        i = j + 1;
      }
      return true;
    });
    if (!r.ok()) return r.status();
    if (removed == 0) continue;
    std::filesystem::path tmp = seg->log_path();
    tmp += ".cleaned";
    if (Status st = write_file_at(tmp, 0, out, true, true); !st.ok()) return st;
    std::lock_guard lock(s.mu);
    auto it = s.segments.find(seg->base_offset());
    if (s.closed || it == s.segments.end() || it->second != seg) {  // deleted meanwhile
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      continue;
    }
    stats.bytes_before += seg->size();
    if (Status st = seg->replace_with(tmp, s.opts.config.index_interval_bytes); !st.ok()) return st;
    if (Status st = fsync_dir(dir_); !st.ok()) return st;
    stats.bytes_after += seg->size();
    stats.records_removed += removed;
    ++stats.segments_cleaned;
    // A segment left empty goes (never the active one, which is not cleaned).
    if (seg->empty() && it->first != s.segments.rbegin()->first) s.remove_segment_locked(it);
  }
  std::lock_guard lock(s.mu);
  s.cleaner_offset = std::max(s.cleaner_offset, end_offset);
  return stats;
}

}  // namespace millrace::storage
