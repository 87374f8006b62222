// Log: flush and group commit, truncation, retention, DeleteRecords, roll,
// checkpoints.
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "storage/index_file.h"
#include "storage/log.h"
#include "storage/log_state.h"

namespace millrace::storage {

// ---- durability ----

Status Log::flush() {
  State& s = *s_;
  std::lock_guard io(s.flush_io_mu);
  int64_t target;
  int64_t unflushed_messages;
  bool dir_dirty, parent_dirty;
  std::vector<std::shared_ptr<const FileHandle>> files;  // captured under mu: compaction may swap them
  {
    std::lock_guard lock(s.mu);
    if (Status st = s.usable(); !st.ok()) return st;
    target = s.leo;
    if (target <= s.flushed.load() && !s.dir_dirty && !s.parent_dirty) return Status::Ok();
    // The append buffer first: fsync covers what is in the file.
    if (Status st = s.active().write_out(); !st.ok()) return s.fail(st);
    auto it = s.segments.upper_bound(s.flushed.load());
    if (it != s.segments.begin()) --it;
    // Index files are caches rebuilt by recovery; write_checkpoints() makes
    // them durable before the recovery point it writes moves past them.
    for (; it != s.segments.end(); ++it) files.push_back(it->second->file());
    dir_dirty = s.dir_dirty;
    parent_dirty = s.parent_dirty;
    unflushed_messages = s.unflushed_messages;
    s.dir_dirty = s.parent_dirty = false;
    s.unflushed_messages = 0;
    s.last_flush_ms = s.opts.clock();
  }
  // Every error below takes the log dir offline (fail-stop, log_dir_health.h):
  // after a failed fdatasync the kernel may have dropped the dirty pages and
  // a retry would "succeed" over lost data, so `flushed` never moves past an
  // error. The flags go back too, for the record (and for a test's reopen).
  auto failed = [&](const Status& st) {
    std::lock_guard lock(s.mu);
    s.dir_dirty = s.dir_dirty || dir_dirty;
    s.parent_dirty = s.parent_dirty || parent_dirty;
    s.unflushed_messages += unflushed_messages;
    return s.fail(st);
  };
  for (const auto& f : files) {
    if (f->env().fdatasync(f->fd()) != 0) return failed(io_error("fdatasync " + f->path(), errno));
  }
  if (dir_dirty) {
    if (Status st = fsync_dir(dir_, &s.env()); !st.ok()) return failed(st);
  }
  if (parent_dirty) {
    if (Status st = fsync_dir(dir_.parent_path(), &s.env()); !st.ok()) return failed(st);
  }
  // A concurrent failure elsewhere in the dir (another log's fsync) does not
  // undo this one: these bytes were synced. The offline check keeps the
  // promise "nothing durable after an error" for this log's own errors above.
  int64_t prev = s.flushed.load();
  while (prev < target && !s.flushed.compare_exchange_weak(prev, target)) {}
  bool moved = false;
  {
    std::lock_guard lock(s.mu);  // hw_policy may change (set_manual_high_watermark)
    if (s.opts.hw_policy == HwPolicy::kOnFlush) {
      int64_t before = s.hw;
      s.advance_hw_locked();
      moved = s.hw != before;
    }
  }
  if (moved && s.opts.on_hw_moved) s.opts.on_hw_moved();
  return Status::Ok();
}

void Log::flush_up_to(Offset offset, std::function<void(Status)> done) {
  State& s = *s_;
  if (offset.value() <= s.flushed.load()) {
    done(Status::Ok());
    return;
  }
  {
    std::lock_guard lock(s.flush_mu);
    s.waiters.push_back({offset.value(), std::move(done)});
    if (s.flush_running) return;
    s.flush_running = true;
  }
  // One pass fsyncs everything appended so far and completes every waiter it
  // covers; waiters that arrived meanwhile are served by the next pass.
  auto run = [self = shared_from_this()] {
    State& st = *self->s_;
    for (;;) {
      Status status = self->flush();
      std::vector<State::Waiter> taken;
      {
        std::lock_guard lock(st.flush_mu);
        taken.swap(st.waiters);
      }
      // Read after taking them: every taken waiter's append had completed
      // before it was queued, so its offset is within this log end (read
      // before taking, a waiter queued meanwhile was wrongly failed as
      // "beyond the log end").
      const int64_t leo = self->log_end_offset().value();
      std::vector<State::Waiter> ready, keep;
      for (auto& w : taken) {
        if (status.ok() && w.offset > st.flushed.load() && w.offset <= leo) keep.push_back(std::move(w));
        else ready.push_back(std::move(w));
      }
      bool more;
      {
        std::lock_guard lock(st.flush_mu);
        st.waiters.insert(st.waiters.begin(), std::make_move_iterator(keep.begin()), std::make_move_iterator(keep.end()));
        more = !st.waiters.empty();
        if (!more) st.flush_running = false;
      }
      for (auto& w : ready) {
        if (!status.ok()) w.done(status);
        else if (w.offset <= st.flushed.load()) w.done(Status::Ok());
        else w.done(Status(Errc::kOffsetOutOfRange, "flush target beyond the log end"));
      }
      if (!more) return;
    }
  };
  if (s.opts.flusher) s.opts.flusher->post(std::move(run));
  else run();
}

Status Log::maybe_flush() {
  bool due;
  {
    std::lock_guard lock(s_->mu);
    if (s_->closed) return Status::Ok();
    const LogConfig& c = s_->opts.config;
    due = s_->unflushed_messages > 0 &&
          (s_->unflushed_messages >= c.flush_messages ||
           (c.flush_ms != INT64_MAX && s_->opts.clock() - s_->last_flush_ms >= c.flush_ms));
  }
  return due ? flush() : Status::Ok();
}

Status Log::write_out_buffer() {
  std::lock_guard lock(s_->mu);
  s_->tail_noted = false;
  if (s_->closed) return Status::Ok();
  if (Status st = s_->usable(); !st.ok()) return st;
  return s_->fail(s_->active().write_out());
}

Status Log::release_idle_buffer(int64_t idle_ms) {
  std::lock_guard lock(s_->mu);
  if (s_->closed || s_->opts.clock() - s_->last_append_ms < idle_ms) return Status::Ok();
  if (Status st = s_->usable(); !st.ok()) return st;
  return s_->fail(s_->active().finish_tail());
}

// ---- truncation ----

Status Log::truncate_to(Offset offset) {
  State& s = *s_;
  bool below_first_segment = false;
  {
    // Compaction may have emptied and removed the first segments, so o can lie in
    // a gap below the first segment: then no batch survives, and the log restarts
    // empty at o (offsets below o are gone already).
    std::lock_guard lock(s.mu);
    below_first_segment = !s.closed && offset.value() < s.leo && offset.value() >= s.log_start &&
                          !s.segments.empty() && s.segments.begin()->first > offset.value();
  }
  if (below_first_segment) return truncate_fully_and_start_at(offset);
  // checkpoint_mu first: the checkpoint written below is the newest one, no
  // write_checkpoints() snapshot taken before the truncation lands after it.
  std::lock_guard cpl(s.checkpoint_mu);
  std::lock_guard clock(s.compact_mu);
  std::lock_guard lock(s.mu);
  if (Status st = s.usable(); !st.ok()) return st;
  const int64_t o = offset.value();
  if (o >= s.leo) return Status::Ok();
  if (o < s.log_start) return Status(Errc::kOffsetOutOfRange, "truncate below log start");
  auto it = s.segments.upper_bound(o);
  if (it == s.segments.begin()) return Status(Errc::kOffsetOutOfRange, "truncate below the first segment");
  --it;  // the segment holding o
  Segment& seg = *it->second;
  if (Status st = seg.write_out(); !st.ok()) return s.fail(st);  // find() reads the file
  auto found = seg.find(o, seg.index_lookup(o), seg.size());
  if (!found.ok()) return found.status();
  // Later segments go whole.
  while (std::next(it) != s.segments.end()) s.remove_segment_locked(std::next(it));
  // The batch holding o goes whole; o itself when it fell in a compacted gap.
  // Offsets below o are never reused, even when compaction emptied them.
  int64_t new_leo = o;
  int64_t cut = seg.size();
  if (*found) {
    new_leo = std::max(std::min((*found)->header.base_offset, o), seg.base_offset());
    cut = (*found)->position;
  }
  // A batch straddling the log start goes whole too; the log then restarts at
  // its start offset (never below it).
  new_leo = std::max(new_leo, s.log_start);
  // Does the data left end exactly at new_leo? When the batch cut away starts
  // at new_leo, only if the batch before it ends at new_leo - 1: compaction may
  // have removed whole batches between them.
  bool data_ends_at_leo = false;
  if (*found && (*found)->header.base_offset == new_leo && new_leo > seg.base_offset()) {
    auto before = seg.find(new_leo - 1, seg.index_lookup(new_leo - 1), cut);
    if (!before.ok()) return before.status();
    data_ends_at_leo = *before && (*before)->header.last_offset() == new_leo - 1;
  }
  // The cut is made durable before the checkpoint that describes it.
  if (Status st = seg.truncate_to_position(cut, new_leo); !st.ok()) return s.fail(st);
  if (Status st = seg.flush(); !st.ok()) return s.fail(st);
  if (Status st = seg.sync_indexes(false); !st.ok()) return s.fail(st);
  s.leo = new_leo;
  if (s.data_end > new_leo) s.data_end = -1;  // found again when asked
  // The log end must survive a restart without trusting a checkpoint: when the
  // batches left may end below it (o in a compacted gap, or the log start),
  // an empty segment named new_leo records it (open() takes the last base).
  if (new_leo > seg.base_offset() && !data_ends_at_leo) {
    if (seg.empty()) {
      s.remove_segment_locked(it);  // `seg` is gone
    } else {
      seg.seal();
      if (Status st = seg.sync_indexes(false); !st.ok()) return s.fail(st);
      if (Status st = seg.finish_tail(); !st.ok()) return s.fail(st);
    }
    auto fresh = Segment::create(dir_, new_leo, s.opts.clock(), s.tail_options());
    if (!fresh.ok()) return s.fail(fresh.status());
    s.segments[new_leo] = std::move(*fresh);
    s.log_start = std::max(s.log_start, s.segments.begin()->first);
    if (Status st = fsync_dir(dir_, &s.env()); !st.ok()) return s.fail(st);
  }
  s.hw = std::min(s.hw, s.leo);
  s.cleaner_offset = std::min(s.cleaner_offset, s.leo);
  if (s.flushed.load() > s.leo) s.flushed = s.leo;
  while (!s.epochs.empty() && s.epochs.back().start_offset >= s.leo) s.epochs.pop_back();
  s.epochs_dirty = true;
  s.producers.truncate_to(s.leo);
  if (Status st = write_file_atomic(dir_ / kEpochCheckpointFile, encode_epoch_checkpoint(s.epochs), &s.env());
      !st.ok())
    return s.fail(st);
  s.epochs_dirty = false;
  return s.fail(s.write_partition_checkpoint(s.checkpoint_locked()));
}

Status Log::truncate_fully_and_start_at(Offset new_start) {
  State& s = *s_;
  std::lock_guard cpl(s.checkpoint_mu);
  std::lock_guard clock(s.compact_mu);
  std::lock_guard lock(s.mu);
  if (Status st = s.usable(); !st.ok()) return st;
  // A segment already named new_start goes first: creating the new one over
  // it (O_TRUNC) and then removing the old one by name would unlink the new
  // file, and every later append would vanish at the next open.
  if (auto same = s.segments.find(new_start.value()); same != s.segments.end()) s.remove_segment_locked(same);
  auto seg = Segment::create(dir_, new_start.value(), s.opts.clock(), s.tail_options());
  if (!seg.ok()) return s.fail(seg.status());
  while (!s.segments.empty()) s.remove_segment_locked(s.segments.begin());
  s.segments[new_start.value()] = std::move(*seg);
  if (Status st = fsync_dir(dir_, &s.env()); !st.ok()) return s.fail(st);
  s.log_start = s.leo = s.hw = s.cleaner_offset = s.data_end = new_start.value();
  s.flushed = new_start.value();
  s.epochs.clear();
  s.producers.clear();
  if (Status st = write_file_atomic(dir_ / kEpochCheckpointFile, encode_epoch_checkpoint(s.epochs), &s.env());
      !st.ok())
    return s.fail(st);
  s.epochs_dirty = false;
  return s.fail(s.write_partition_checkpoint(s.checkpoint_locked()));
}

// ---- DeleteRecords, roll, retention ----

Status Log::State::move_log_start_locked(int64_t o) {
  log_start = o;
  cleaner_offset = std::max(cleaner_offset, o);
  if (o == leo && !active().empty()) {
    if (Status st = roll_locked(opts.clock()); !st.ok()) return fail(st);
  }
  // Whole segments below the new start go.
  while (segments.size() > 1 && std::next(segments.begin())->first <= o) remove_segment_locked(segments.begin());
  return Status::Ok();
}

// The new log start reaches partition.checkpoint off the caller's thread
// (the flush executor; inline for a bare Log). As in Kafka, a crash before
// that write may bring back the records below it in the first segment left;
// the whole segments below it are gone already.
Status Log::checkpoint_log_start() {
  if (s_->opts.flusher) {
    s_->opts.flusher->post([self = shared_from_this()] { (void)self->write_checkpoints(); });
    return Status::Ok();
  }
  return write_checkpoints();
}

Result<Offset> Log::delete_records_before(Offset offset) {
  State& s = *s_;
  {
    std::lock_guard lock(s.mu);
    if (Status st = s.usable(); !st.ok()) return st;
    const int64_t o = offset.value();
    if (o > s.hw || o < 0)
      return Status(Errc::kOffsetOutOfRange, "delete before " + std::to_string(o) + " above high watermark " +
                                                 std::to_string(s.hw));
    if (o <= s.log_start) return Offset(s.log_start);
    if (Status st = s.move_log_start_locked(o); !st.ok()) return st;
  }
  if (Status st = checkpoint_log_start(); !st.ok()) return st;
  return offset;
}

Result<Offset> Log::set_high_watermark_and_log_start(Offset hw, Offset log_start) {
  State& s = *s_;
  int64_t start;
  bool moved = false;
  {
    std::lock_guard lock(s.mu);
    if (Status st = s.usable(); !st.ok()) return st;
    s.hw = std::clamp(hw.value(), s.log_start, s.leo);
    const int64_t o = std::min(log_start.value(), s.hw);
    if (o > s.log_start) {
      if (Status st = s.move_log_start_locked(o); !st.ok()) return st;
      moved = true;
    }
    start = s.log_start;
  }
  if (moved) {
    if (Status st = checkpoint_log_start(); !st.ok()) return st;
  }
  return Offset(start);
}

Status Log::roll() {
  std::lock_guard lock(s_->mu);
  if (Status st = s_->usable(); !st.ok()) return st;
  return s_->fail(s_->roll_locked(s_->opts.clock()));
}

Result<int> Log::enforce_retention() {
  State& s = *s_;
  std::lock_guard lock(s.mu);
  if (Status st = s.usable(); !st.ok()) return st;
  const LogConfig& c = s.opts.config;
  const int64_t now = s.opts.clock();
  if (s.should_roll_locked(0, s.leo, now) && now - s.active().created_ms() >= c.segment_ms) {
    if (Status st = s.roll_locked(now); !st.ok()) return s.fail(st);
  }
  if (!c.cleanup_delete) return 0;
  int64_t total = 0;
  for (const auto& [base, seg] : s.segments) total += seg->size();
  int deleted = 0;
  while (s.segments.size() > 1) {
    auto first = s.segments.begin();
    int64_t end = std::next(first)->first;  // whole segment below the next base
    if (end > s.hw) break;
    const Segment& seg = *first->second;
    bool by_time = c.retention_ms >= 0 && seg.max_timestamp() >= 0 && now - seg.max_timestamp() > c.retention_ms;
    bool by_size = c.retention_bytes >= 0 && total - seg.size() >= c.retention_bytes;
    if (!by_time && !by_size) break;
    total -= seg.size();
    s.remove_segment_locked(first);
    ++deleted;
  }
  if (deleted > 0) {
    s.log_start = std::max(s.log_start, s.segments.begin()->first);
    s.cleaner_offset = std::max(s.cleaner_offset, s.log_start);
  }
  return deleted;
}

// ---- checkpoints ----

Status Log::write_checkpoints() {
  State& s = *s_;
  // One writer at a time, capture and write under the same checkpoint_mu (so
  // does every other writer of these files): the files only move forward.
  std::lock_guard cl(s.checkpoint_mu);
  std::vector<uint8_t> snapshot, epochs;
  PartitionCheckpoint partition;
  {
    std::lock_guard lock(s.mu);
    if (Status st = s.usable(); !st.ok()) return st;
    // Indexes of fsynced data first, so that the recovery point written below
    // never covers a segment whose index file is not durable.
    for (auto& [base, seg] : s.segments) {
      if (Status st = seg->sync_indexes(seg->next_offset() <= s.flushed.load()); !st.ok()) return s.fail(st);
    }
    s.producers.remove_expired(s.opts.clock(), s.opts.producer_id_expiration_ms);
    snapshot = s.producers.encode_snapshot(s.leo);
    if (s.epochs_dirty) epochs = encode_epoch_checkpoint(s.epochs);
    s.epochs_dirty = false;
    partition = s.checkpoint_locked();
  }
  std::vector<uint8_t> partition_bytes = encode_partition_checkpoint(partition);
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files;
  if (!epochs.empty()) files.emplace_back(kEpochCheckpointFile, std::move(epochs));
  bool snapshot_changed = snapshot != s.written_snapshot;
  bool partition_changed = partition_bytes != s.written_partition;
  if (snapshot_changed) files.emplace_back(kProducerSnapshotFile, snapshot);
  if (partition_changed) files.emplace_back(kPartitionCheckpointFile, partition_bytes);
  if (Status st = write_files_atomic(dir_, files, &s.env()); !st.ok()) {
    std::lock_guard lock(s.mu);
    s.epochs_dirty = true;
    return s.fail(st);
  }
  if (snapshot_changed) s.written_snapshot = std::move(snapshot);
  if (partition_changed) s.written_partition = std::move(partition_bytes);
  return Status::Ok();
}

Status Log::State::write_partition_checkpoint(const PartitionCheckpoint& cp) {
  std::vector<uint8_t> bytes = encode_partition_checkpoint(cp);
  if (Status st = write_file_atomic(dir / kPartitionCheckpointFile, bytes, &env()); !st.ok()) return st;
  written_partition = std::move(bytes);
  return Status::Ok();
}

}  // namespace millrace::storage
