// Log: append, read, lookups by time.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <unordered_map>

#include "protocol/record/record_reader.h"
#include "storage/log.h"
#include "storage/log_state.h"

namespace millrace::storage {

namespace {

struct Parsed {
  size_t position;
  record::BatchHeader header;
};

Status batch_error(record::BatchError e, size_t position) {
  std::string where = "batch at byte " + std::to_string(position) + ": " + record::to_string(e);
  if (e == record::BatchError::kUnsupportedMagic) return Status(Errc::kUnsupportedMagic, where);
  return Status(Errc::kCorruptMessage, where);
}

// Framing + CRC + size of every batch, before taking the log lock.
Result<std::vector<Parsed>> parse_all(std::span<const uint8_t> bytes, int32_t max_message_bytes) {
  if (bytes.empty()) return Status(Errc::kCorruptMessage, "no record batch");
  std::vector<Parsed> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    auto rest = bytes.subspan(pos);
    auto hr = record::parse_batch_header(rest);
    if (hr.error != record::BatchError::kOk) return batch_error(hr.error, pos);
    if (hr.header.total_size() > static_cast<size_t>(max_message_bytes))
      return Status(Errc::kMessageTooLarge, "batch of " + std::to_string(hr.header.total_size()) +
                                                " bytes > max.message.bytes " + std::to_string(max_message_bytes));
    if (auto e = record::validate_batch(rest); e != record::BatchError::kOk) return batch_error(e, pos);
    out.push_back({pos, hr.header});
    pos += hr.header.total_size();
  }
  return out;
}

// A reader looks at the file only: when `offset` (or the segment's first
// batch) is not whole in it yet, the segment's pending tail is written first.
// REQUIRES: the Log mutex held.
Status write_out_for_read(Segment& seg, int64_t offset) {
  if (!seg.pending() || std::max(offset, seg.base_offset()) < seg.written_next_offset()) return Status::Ok();
  return seg.write_out();
}

}  // namespace

Result<AppendResult> Log::append(std::span<uint8_t> batches, LeaderEpoch leader_epoch) {
  State& s = *s_;
  if (s.opts.dir_health->offline()) return s.opts.dir_health->error();  // before any parsing
  const int32_t max_bytes = config().max_message_bytes;
  auto parsed = parse_all(batches, max_bytes);
  if (!parsed.ok()) return parsed.status();

  std::unique_lock lock(s.mu);
  if (Status st = s.usable(); !st.ok()) return st;
  const int64_t now = s.opts.clock();
  const LogConfig& cfg = s.opts.config;

  // Idempotence, checked for every batch before anything is written, each
  // against its producer's state as the batches before it in this append leave
  // it (so a gap or a repeat inside one append is caught too). A retried
  // append is duplicates only: it gets its original offsets. Duplicates mixed
  // with new batches are refused whole (no client sends that; appending only
  // the new ones would answer with offsets the client did not ask about).
  {
    std::unordered_map<int64_t, ProducerEntry> seen;  // producer id -> entry during this append
    int64_t next_offset = s.leo;
    size_t duplicates = 0;
    AppendResult dup;
    dup.duplicate = true;
    for (const auto& p : *parsed) {
      const int64_t base = next_offset, last = next_offset + p.header.last_offset_delta;
      next_offset = last + 1;
      ProducerBatchInfo info = producer_info(p.header);
      if (info.producer_id < 0) continue;
      auto [it, inserted] = seen.try_emplace(info.producer_id);
      if (inserted) {
        if (const ProducerEntry* stored = s.producers.find(info.producer_id)) it->second = *stored;
      }
      SequenceCheck c = ProducerStateManager::check_entry(it->second, info);
      if (!c.status.ok()) return c.status;
      if (c.duplicate) {
        if (duplicates++ == 0) dup.base_offset = Offset(c.base_offset);
        dup.last_offset = Offset(c.last_offset);
        continue;
      }
      ProducerStateManager::apply(it->second, info, base, last, p.header.max_timestamp, now);
    }
    if (duplicates == parsed->size()) {
      dup.log_start_offset = Offset(s.log_start);
      return dup;
    }
    if (duplicates > 0)
      return Status(Errc::kOutOfOrderSequence, std::to_string(duplicates) + " duplicate batch(es) mixed with " +
                                                   std::to_string(parsed->size() - duplicates) +
                                                   " new one(s) in one append");
  }

  // Stamp offsets, epoch and (LogAppendTime) the append time.
  std::vector<BatchMeta> metas;
  metas.reserve(parsed->size());
  int64_t next = s.leo;
  int64_t records = 0;
  for (const auto& p : *parsed) {
    auto span = batches.subspan(p.position, p.header.total_size());
    record::set_base_offset(span, next);
    record::set_partition_leader_epoch(span, leader_epoch.value());
    int64_t max_ts = p.header.max_timestamp;
    if (cfg.log_append_time) {
      record::set_max_timestamp_log_append(span, now);
      max_ts = now;
    }
    metas.push_back({static_cast<int64_t>(p.position), next, next + p.header.last_offset_delta, max_ts,
                     static_cast<int32_t>(p.header.total_size())});
    next += p.header.last_offset_delta + 1;
    records += p.header.record_count;
  }
  if (s.should_roll_locked(static_cast<int64_t>(batches.size()), next - 1, now)) {
    if (Status st = s.roll_locked(now); !st.ok()) return s.fail(st);
  }
  if (Status st = s.active().append(batches, metas, cfg.index_interval_bytes); !st.ok()) return s.append_failed(st);
  s.note_pending_locked(weak_from_this());

  AppendResult result;
  result.base_offset = Offset(s.leo);
  result.last_offset = Offset(next - 1);
  result.log_append_time_ms = cfg.log_append_time ? now : -1;
  s.note_epoch_locked(leader_epoch.value(), s.leo);
  for (size_t i = 0; i < parsed->size(); ++i) {
    s.producers.update(producer_info((*parsed)[i].header), metas[i].base_offset, metas[i].last_offset,
                       metas[i].max_timestamp, now);
    s.note_data_locked((*parsed)[i].header, metas[i].last_offset);
  }
  s.leo = next;
  s.unflushed_messages += records;
  s.advance_hw_locked();
  result.log_start_offset = Offset(s.log_start);
  // flush.messages due, or (kOnFlush) records that consumers may see only once
  // they are fsynced: with a flush executor the fsync runs there (group commit
  // with every other waiter; a failure takes the log dir offline and shows at
  // the next call), never on the caller's thread. A bare Log fsyncs inline.
  const bool flush_due = s.unflushed_messages >= cfg.flush_messages;
  const bool visibility_flush = s.opts.hw_policy == HwPolicy::kOnFlush && s.opts.flusher;
  lock.unlock();
  if (flush_due || visibility_flush) {
    if (s.opts.flusher) {
      flush_up_to(Offset(next), [](Status) {});
    } else if (Status st = flush(); !st.ok()) {
      return st;
    }
  }
  return result;
}

Result<std::vector<record::BatchHeader>> Log::check_batches(std::span<const uint8_t> batches) const {
  if (s_->opts.dir_health->offline()) return s_->opts.dir_health->error();
  auto parsed = parse_all(batches, config().max_message_bytes);
  if (!parsed.ok()) return parsed.status();
  std::vector<record::BatchHeader> out;
  out.reserve(parsed->size());
  for (const auto& p : *parsed) out.push_back(p.header);
  return out;
}

Result<AppendResult> Log::append_replicated(std::span<uint8_t> batches) {
  State& s = *s_;
  if (s.opts.dir_health->offline()) return s.opts.dir_health->error();
  auto parsed = parse_all(batches, INT32_MAX);
  if (!parsed.ok()) return parsed.status();
  std::unique_lock lock(s.mu);
  if (Status st = s.usable(); !st.ok()) return st;
  const int64_t now = s.opts.clock();
  std::vector<BatchMeta> metas;
  int64_t expect = s.leo;
  for (const auto& p : *parsed) {
    if (p.header.base_offset < expect)
      return Status(Errc::kInvalidArgument, "replicated batch at " + std::to_string(p.header.base_offset) +
                                                " below the next offset " + std::to_string(expect));
    metas.push_back({static_cast<int64_t>(p.position), p.header.base_offset, p.header.last_offset(),
                     p.header.max_timestamp, static_cast<int32_t>(p.header.total_size())});
    expect = p.header.last_offset() + 1;
  }
  if (s.should_roll_locked(static_cast<int64_t>(batches.size()), expect - 1, now)) {
    if (Status st = s.roll_locked(now); !st.ok()) return s.fail(st);
  }
  if (Status st = s.active().append(batches, metas, s.opts.config.index_interval_bytes); !st.ok())
    return s.append_failed(st);
  s.note_pending_locked(weak_from_this());
  for (size_t i = 0; i < parsed->size(); ++i) {
    s.note_epoch_locked((*parsed)[i].header.partition_leader_epoch, metas[i].base_offset);
    s.producers.update(producer_info((*parsed)[i].header), metas[i].base_offset, metas[i].last_offset,
                       metas[i].max_timestamp, now);
    s.unflushed_messages += (*parsed)[i].header.record_count;
    s.note_data_locked((*parsed)[i].header, metas[i].last_offset);
  }
  AppendResult result;
  result.base_offset = Offset(metas.front().base_offset);
  result.last_offset = Offset(expect - 1);
  s.leo = expect;
  s.advance_hw_locked();
  result.log_start_offset = Offset(s.log_start);
  return result;
}

Result<FileRegion> Log::read(Offset offset, int32_t max_bytes, Offset upper_bound, ReadFilter filter) const {
  State& s = *s_;  // read may write the append buffer out (the file contents do not change)
  struct Candidate {
    std::shared_ptr<const FileHandle> file;
    int64_t start;
    int64_t limit;
    bool pending;  // the segment had bytes not yet in the file
  };
  // The segment holding `offset`, then the following ones when it has nothing
  // at or after it (compaction leaves gaps). The lock is held only to look up
  // (and to write a segment's buffered tail when the read needs it).
  int64_t next_base = -1;
  bool first = true;
  bool retry = false;  // read segment next_base again, its buffered tail written first
  for (;; first = false) {
    Candidate c;
    {
      std::lock_guard lock(s.mu);
      if (Status st = s.usable(); !st.ok()) return st;
      std::map<int64_t, std::shared_ptr<Segment>>::iterator it;
      if (first) {
        if (offset.value() < s.log_start || offset.value() > s.leo)
          return Status(Errc::kOffsetOutOfRange, "offset " + std::to_string(offset.value()) + " outside [" +
                                                     std::to_string(s.log_start) + ", " + std::to_string(s.leo) + "]");
        if (offset.value() == s.leo || offset >= upper_bound) return FileRegion{};
        it = s.segments.upper_bound(offset.value());
        if (it != s.segments.begin()) --it;
      } else {
        it = retry ? s.segments.find(next_base) : s.segments.upper_bound(next_base);
        if (it == s.segments.end()) return FileRegion{};  // deleted meanwhile, or no more segments
      }
      Segment& seg = *it->second;
      Status st = retry ? seg.write_out() : write_out_for_read(seg, offset.value());
      if (!st.ok()) return s.fail(st);
      c = {it->second->file(), seg.index_lookup(offset.value()), seg.file_size(), seg.pending()};
      next_base = it->first;
    }
    auto found = Segment::find_in(*c.file, offset.value(), c.start, c.limit);
    if (!found.ok()) return found.status();
    const bool whole = *found && (*found)->position + static_cast<int64_t>((*found)->header.total_size()) <= c.limit;
    // write_out_for_read() wrote the tail when `offset` needs it; should a batch
    // still be missing (or cut) at the end of the file, write the tail and look again.
    if (!whole && c.pending && !retry) {
      retry = true;
      continue;
    }
    retry = false;
    if (!*found) continue;
    const auto& h = (*found)->header;
    if (h.last_offset() >= upper_bound.value()) return FileRegion{};
    if (!whole)
      return Status(Errc::kStorageError, c.file->path() + ": batch at " + std::to_string((*found)->position) +
                                             " not whole in the file");
    FileRegion region{c.file, (*found)->position, static_cast<int64_t>(h.total_size()), h.base_offset, h.last_offset()};
    // Raft's own entries (is_raft_control) are split from data: a run of them
    // is one region, marked raft_control (never sent, so not held to max_bytes).
    const bool split = filter == ReadFilter::kNoRaftControl;
    region.raft_control = split && is_raft_control(h);
    // Extend over following whole batches while they fit and are below the bound.
    int64_t pos = region.position + region.length;
    uint8_t hdr[record::kBatchHeaderSize];
    while (pos + static_cast<int64_t>(sizeof hdr) <= c.limit) {
      ssize_t n = c.file->env().pread(c.file->fd(), hdr, sizeof hdr, pos);
      if (n != static_cast<ssize_t>(sizeof hdr)) break;
      auto hr = record::parse_batch_header(std::span<const uint8_t>(hdr, sizeof hdr));
      if (hr.error != record::BatchError::kOk) break;
      int64_t size = static_cast<int64_t>(hr.header.total_size());
      if (hr.header.last_offset() >= upper_bound.value() || pos + size > c.limit ||
          (split && is_raft_control(hr.header) != region.raft_control) ||
          (!region.raft_control && region.length + size > max_bytes))
        break;
      region.length += size;
      region.last_offset = hr.header.last_offset();
      pos += size;
    }
    return region;
  }
}

Result<int64_t> Log::State::data_end_locked() {
  if (data_end >= 0) return data_end;
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    Segment& seg = *it->second;
    if (Status st = seg.write_out(); !st.ok()) return fail(st);  // scan() reads the file
    // From the last index entry back, one index interval at a time: Raft's
    // entries trail the data by a few batches at most, short of a segment roll.
    const auto& entries = seg.offset_index().entries();
    int64_t until = seg.size();
    for (size_t k = entries.size() + 1; k-- > 0;) {
      const int64_t from = k > 0 ? entries[k - 1].position : 0;
      if (from >= until) continue;
      int64_t found = -1;
      auto r = seg.scan(from, false, [&](int64_t pos, const record::BatchHeader& h, std::span<const uint8_t>) {
        if (pos >= until) return false;
        if (!is_raft_control(h)) found = h.last_offset() + 1;
        return true;
      });
      if (!r.ok()) return fail(r.status());
      if (found >= 0) return data_end = found;
      until = from;
    }
  }
  return data_end = log_start;
}

Offset Log::data_end() const {
  std::lock_guard lock(s_->mu);
  auto end = s_->usable().ok() ? s_->data_end_locked() : Result<int64_t>(s_->leo);
  // On a read error (the log dir goes offline) consumers see the high watermark.
  return Offset(end.ok() ? *end : s_->hw);
}

Offset Log::consumer_end(Offset hw) const {
  // One lock for both (a consumer's every Fetch of a partition asks).
  std::lock_guard lock(s_->mu);
  auto end = s_->usable().ok() ? s_->data_end_locked() : Result<int64_t>(s_->hw);
  return Offset(std::max(s_->log_start, std::min(hw.value(), end.ok() ? *end : s_->hw)));
}

Result<std::optional<TimestampOffset>> Log::offset_for_timestamp(int64_t ts) const {
  State& s = *s_;
  std::lock_guard lock(s.mu);
  if (Status st = s.usable(); !st.ok()) return st;
  if (ts >= 0) {  // the scan below reads the file
    if (Status st = s.active().write_out(); !st.ok()) return s.fail(st);
  }
  if (ts == -2) return std::optional<TimestampOffset>(TimestampOffset{-1, Offset(s.log_start)});
  if (ts == -1) return std::optional<TimestampOffset>(TimestampOffset{-1, Offset(s.leo)});
  if (ts == -3) {
    std::optional<TimestampOffset> best;
    for (const auto& [base, seg] : s.segments)
      if (seg->max_timestamp() >= 0 && (!best || seg->max_timestamp() > best->timestamp))
        best = TimestampOffset{seg->max_timestamp(), Offset(std::max(seg->max_timestamp_offset(), s.log_start))};
    return best;
  }
  if (ts < 0) return Status(Errc::kInvalidArgument, "timestamp " + std::to_string(ts));
  for (const auto& [base, seg] : s.segments) {
    if (seg->max_timestamp() < ts) continue;
    TimeEntry te = seg->time_index().lookup_before(ts);
    int64_t from_offset = std::max(base + te.relative_offset, s.log_start);
    int64_t start = seg->index_lookup(from_offset);
    std::optional<TimestampOffset> answer;
    std::vector<uint8_t> scratch;
    auto r = seg->scan(start, false, [&](int64_t, const record::BatchHeader& h, std::span<const uint8_t> whole) {
      if (h.last_offset() < s.log_start || h.max_timestamp < ts) return true;
      answer = TimestampOffset{h.max_timestamp, Offset(std::max(h.base_offset, s.log_start))};
      // The first record at or after ts inside the batch.
      record::for_each_record(whole, [&](const record::Record& rec) {
        int64_t off = record::record_offset(h, rec);
        int64_t rts = record::record_timestamp(h, rec);
        if (off >= s.log_start && rts >= ts) {
          answer = TimestampOffset{rts, Offset(off)};
          return false;
        }
        return true;
      }, scratch);
      return false;
    });
    if (!r.ok()) return r.status();
    if (answer) return answer;
  }
  return std::optional<TimestampOffset>();
}

}  // namespace millrace::storage
