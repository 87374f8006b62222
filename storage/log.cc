// Log: open (with recovery), close, remove, accessors. The file layout and the
// durability contract are drawn in log.h.
#include "storage/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "storage/index_file.h"
#include "storage/log_state.h"

namespace millrace::storage {

namespace fs = std::filesystem;

int64_t system_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Log::Log(fs::path dir, LogOptions options) : dir_(std::move(dir)), s_(std::make_unique<State>()) {
  s_->opts = std::move(options);
  if (!s_->opts.clock) s_->opts.clock = system_clock_ms;
  s_->opts.env = env_or_posix(s_->opts.env);
  if (!s_->opts.dir_health) s_->opts.dir_health = std::make_shared<LogDirHealth>(dir_.parent_path());
  s_dir_health_ = s_->opts.dir_health;
  s_->dir = dir_;
}

std::shared_ptr<Log> Log::offline(const fs::path& dir, LogOptions options, const Status& cause) {
  options.dir_health = std::make_shared<LogDirHealth>(dir);  // this partition only
  std::shared_ptr<Log> log(new Log(dir, std::move(options)));
  log->s_->closed = true;
  (void)log->s_->opts.dir_health->take_offline(cause);
  return log;
}

Log::~Log() {
  if (s_) (void)close();
}

// ---- State helpers ----

bool Log::State::should_roll_locked(int64_t incoming_bytes, int64_t last_offset, int64_t now_ms) const {
  const Segment& a = *segments.rbegin()->second;
  if (a.empty()) return false;
  const LogConfig& c = opts.config;
  return a.size() + incoming_bytes > c.segment_bytes || now_ms - a.created_ms() >= c.segment_ms ||
         a.index_bytes() + static_cast<int64_t>(kTimeEntrySize + kOffsetEntrySize) > c.segment_index_bytes ||
         last_offset - a.base_offset() > INT32_MAX;
}

Status Log::State::roll_locked(int64_t now_ms) {
  Segment& old = active();
  if (old.empty()) return Status::Ok();
  old.seal();
  if (Status s = old.sync_indexes(false); !s.ok()) return s;
  // The old tail goes to the file now: only the active segment buffers.
  if (Status s = old.finish_tail(); !s.ok()) return s;
  auto seg = Segment::create(dir, leo, now_ms, tail_options());
  if (!seg.ok()) return seg.status();
  segments[leo] = std::move(*seg);
  dir_dirty = true;
  return Status::Ok();
}

void Log::State::note_pending_locked(std::weak_ptr<Log> self) {
  last_append_ms = opts.clock();
  if (!opts.buffers || tail_noted || !active().pending()) return;
  tail_noted = true;
  opts.buffers->note_pending(std::move(self));
}

void Log::State::remove_segment_locked(std::map<int64_t, std::shared_ptr<Segment>>::iterator it) {
  // Readers holding the FileHandle keep reading the unlinked file.
  (void)it->second->remove_files();
  segments.erase(it);
}

void Log::State::note_epoch_locked(int32_t epoch, int64_t start_offset) {
  if (epoch < 0) return;
  if (!epochs.empty() && epoch <= epochs.back().epoch) return;
  epochs.push_back({epoch, start_offset});
  epochs_dirty = true;
}

void Log::State::advance_hw_locked() {
  switch (opts.hw_policy) {
    case HwPolicy::kOnAppend: hw = leo; break;
    case HwPolicy::kOnFlush: hw = std::max(hw, std::min(flushed.load(), leo)); break;
    case HwPolicy::kManual: break;
  }
}

// ---- open / recovery ----

namespace {

bool parse_segment_name(const std::string& name, int64_t& base) {
  if (name.size() != 24 || name.substr(20) != ".log") return false;
  base = 0;
  for (int i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    base = base * 10 + (name[i] - '0');
  }
  return true;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<std::shared_ptr<Log>> Log::open(const fs::path& dir, LogOptions options) {
  Env& env = *env_or_posix(options.env);
  if (options.dir_health && options.dir_health->offline()) return options.dir_health->error();
  if (Status st = env.create_directories(dir); !st.ok()) return st;
  std::error_code ec;
  LogOptions options_copy = options;  // for a retry with recovery
  std::shared_ptr<Log> log(new Log(dir, std::move(options)));
  State& s = *log->s_;
  s.closed = true;  // until loaded: an early error return must not close() a half-loaded log
  const int64_t now = s.opts.clock();
  const int32_t interval = s.opts.config.index_interval_bytes;

  std::vector<int64_t> bases;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    int64_t base = 0;
    if (parse_segment_name(name, base)) {
      bases.push_back(base);
    } else if (ends_with(name, ".cleaned") || ends_with(name, ".tmp")) {
      // An interrupted compaction or checkpoint write.
      if (Status st = env.remove_file(entry.path()); !st.ok()) return st;
    }
  }
  if (ec) return Status(Errc::kStorageError, "list " + dir.string() + ": " + ec.message());
  std::sort(bases.begin(), bases.end());

  const bool clean = fs::exists(dir / kCleanShutdownFile);
  auto cp_bytes = read_whole_file(dir / kPartitionCheckpointFile, &env);
  Result<PartitionCheckpoint> cp = cp_bytes.ok() ? decode_partition_checkpoint(*cp_bytes) : Result<PartitionCheckpoint>(cp_bytes.status());
  auto ep_bytes = read_whole_file(dir / kEpochCheckpointFile, &env);
  bool epochs_ok = true;
  if (ep_bytes.ok()) {
    auto ep = decode_epoch_checkpoint(*ep_bytes);
    if (ep.ok()) s.epochs = std::move(*ep); else epochs_ok = false;
  } else if (ep_bytes.code() != Errc::kNotFound) {
    epochs_ok = false;
  }
  int64_t snapshot_offset = 0;  // replay producer state from here
  bool have_snapshot = false;
  if (auto ps_bytes = read_whole_file(dir / kProducerSnapshotFile, &env); ps_bytes.ok()) {
    if (auto ps = ProducerStateManager::decode_snapshot(*ps_bytes); ps.ok()) {
      s.producers = std::move(ps->first);
      snapshot_offset = ps->second;
      have_snapshot = true;
      s.written_snapshot = std::move(*ps_bytes);  // unchanged state is not rewritten
    }
  }
  if (cp.ok()) s.written_partition = *cp_bytes;

  // Where the CRC-checked recovery starts: nowhere after a clean shutdown with
  // good metadata, else at the recovery point, else at the very beginning.
  int64_t recover_from = INT64_MAX;
  if (!bases.empty()) {
    if (!cp.ok() || !epochs_ok) {
      recover_from = 0;
      s.epochs.clear();
    } else if (!clean) {
      recover_from = cp->recovery_point;
    }
  }
  if (bases.empty() && cp.ok()) bases.push_back(cp->log_start_offset);  // everything was deleted
  s.recovery.clean_shutdown = clean && recover_from == INT64_MAX;

  if (bases.empty()) {
    auto seg = Segment::create(dir, 0, now, s.tail_options());
    if (!seg.ok()) return seg.status();
    s.segments[0] = std::move(*seg);
    s.dir_dirty = true;
  }
  for (size_t i = 0; i < bases.size(); ++i) {
    auto seg = fs::exists(dir / segment_file_name(bases[i], ".log"))
                   ? Segment::open(dir, bases[i], now, s.tail_options())
                   : Segment::create(dir, bases[i], now, s.tail_options());
    if (!seg.ok()) return seg.status();
    s.segments[bases[i]] = std::move(*seg);
  }

  // Snapshot newer than the log (power loss after it was written): rebuild.
  auto last_possible = [&](size_t i) { return i + 1 < bases.size() ? bases[i + 1] : INT64_MAX; };
  auto replay = [&](const record::BatchHeader& h) {
    if (h.base_offset >= snapshot_offset && h.producer_id >= 0 && !h.is_control()) {
      // producer_info wraps the last sequence past INT32_MAX as the append path does.
      s.producers.update(producer_info(h), h.base_offset, h.last_offset(), h.max_timestamp, now);
    }
  };
  for (size_t i = 0; i < bases.size(); ++i) {
    Segment& seg = *s.segments[bases[i]];
    if (recover_from < last_possible(i)) {
      int64_t before = seg.size();
      auto r = seg.recover(interval, [&](int64_t, const record::BatchHeader& h, std::span<const uint8_t> whole) {
        s.note_epoch_locked(h.partition_leader_epoch, h.base_offset);
        replay(h);
        s.recovery.bytes_scanned += static_cast<int64_t>(whole.size());
        return true;
      });
      if (!r.ok()) return r.status();
      ++s.recovery.segments_scanned;
      if (Status f = seg.flush(); !f.ok()) return f;
      if (!r->clean) {
        s.recovery.bytes_truncated += before - r->valid_bytes;
        // Everything after the first bad byte goes, later segments included.
        for (size_t j = i + 1; j < bases.size(); ++j) {
          auto it = s.segments.find(bases[j]);
          s.recovery.bytes_truncated += it->second->size();
          s.remove_segment_locked(it);
        }
        bases.resize(i + 1);
        break;
      }
    } else {
      if (Status st = seg.load_indexes(interval); !st.ok()) {
        if (clean && st.code() == Errc::kCorruptSegment) {
          // Damaged after a clean shutdown: drop the marker and recover instead.
          log.reset();  // closed: the destructor writes nothing
          if (Status rm = env.remove_file(dir / kCleanShutdownFile); !rm.ok()) return rm;
          return Log::open(dir, std::move(options_copy));
        }
        return st;
      }
      if (last_possible(i) > snapshot_offset) {
        auto r = seg.scan(0, false, [&](int64_t, const record::BatchHeader& h, std::span<const uint8_t>) {
          replay(h);
          return true;
        });
        if (!r.ok()) return r.status();
      }
    }
  }

  s.leo = s.active().next_offset();
  // An empty trailing segment keeps its base as the log end.
  s.leo = std::max(s.leo, s.segments.rbegin()->first);
  if (have_snapshot && snapshot_offset > s.leo) {
    // The snapshot saw offsets the log no longer has: rebuild from the log.
    s.producers.clear();
    snapshot_offset = 0;
    for (auto& [base, seg] : s.segments) {
      auto r = seg->scan(0, false, [&](int64_t, const record::BatchHeader& h, std::span<const uint8_t>) {
        replay(h);
        return true;
      });
      if (!r.ok()) return r.status();
    }
  }
  s.producers.truncate_to(s.leo);
  while (!s.epochs.empty() && s.epochs.back().start_offset >= s.leo) s.epochs.pop_back();
  // The data alone decides the log end, never a checkpoint: a recovery point
  // above it names offsets that are not there (a checkpoint is only metadata).
  // A truncation into a compacted gap leaves an empty segment named after the
  // log end (truncate_to), which the line above picks up.
  s.log_start = s.segments.begin()->first;
  if (cp.ok()) s.log_start = std::clamp(cp->log_start_offset, s.log_start, s.leo);
  s.flushed = s.leo;  // recovered segments were fsynced above; clean ones were at close
  s.hw = cp.ok() ? std::clamp(cp->high_watermark, s.log_start, s.leo) : s.leo;
  // Compaction maps keys only from cleaner_offset on, so a checkpointed value
  // past the log end (the data it counted was truncated or lost; records
  // appended since then at lower offsets were never mapped) would leave those
  // records' older duplicates forever. As Kafka's LogCleanerManager does for an
  // out-of-range checkpoint: start again from the log start.
  s.cleaner_offset = cp.ok() && cp->cleaner_offset >= s.log_start && cp->cleaner_offset <= s.leo
                         ? cp->cleaner_offset
                         : s.log_start;
  s.advance_hw_locked();
  s.last_flush_ms = now;

  s.closed = false;
  // From here on the log may change: the marker must be gone for good first.
  if (clean) {
    if (Status st = env.remove_file(dir / kCleanShutdownFile); !st.ok()) return st;
  }
  if (bases.empty()) {
    // A new log: its directory entries become durable with the first flush.
    s.dir_dirty = s.parent_dirty = true;
  } else {
    if (Status st = fsync_dir(dir, &env); !st.ok()) return st;
    s.dir_dirty = false;
  }
  // After recovery the checkpoints describe the repaired log; a clean or fresh
  // log has nothing new to say (keeps opening thousands of partitions cheap).
  if (!s.recovery.clean_shutdown && !bases.empty()) {
    if (Status st = log->write_checkpoints(); !st.ok()) return st;
  }
  return log;
}

// ---- close / remove ----

Status Log::close() {
  State& s = *s_;
  {
    // An offline log dir (log_dir_health.h) writes nothing more, above all not
    // the clean-shutdown marker: the next open must recover from the data.
    // The first close() of such a log reports it; a stand-in that never
    // loaded (Log::offline) was reported by its LogManager already: kClosed.
    std::lock_guard lock(s.mu);
    if (s.opts.dir_health->offline()) {
      const bool was_closed = std::exchange(s.closed, true);
      return was_closed ? Status(Errc::kClosed, dir_.string()) : s.opts.dir_health->error();
    }
  }
  if (Status st = flush(); !st.ok() && st.code() != Errc::kClosed) return st;
  if (Status st = write_checkpoints(); !st.ok() && st.code() != Errc::kClosed) return st;
  std::lock_guard cl(s.checkpoint_mu);
  std::lock_guard lock(s.mu);
  if (Status st = s.usable(); !st.ok()) return st;
  for (auto& [base, seg] : s.segments) {
    if (Status st = seg->sync_indexes(true); !st.ok()) return s.fail(st);
  }
  // Appends that raced with the flush above: flush them too.
  if (s.flushed.load() < s.leo || s.active().pending()) {
    if (Status st = s.active().flush(); !st.ok()) return s.fail(st);
    s.flushed = s.leo;
    if (Status st = s.write_partition_checkpoint(s.checkpoint_locked()); !st.ok()) return s.fail(st);
    if (Status st = write_file_atomic(dir_ / kProducerSnapshotFile, s.producers.encode_snapshot(s.leo), &s.env());
        !st.ok())
      return s.fail(st);
  }
  if (Status st = s.active().finish_tail(); !st.ok()) return s.fail(st);
  s.closed = true;
  // An empty marker: only its directory entry has to be durable.
  if (Status st = write_file_at(dir_ / kCleanShutdownFile, 0, {}, true, false, &s.env()); !st.ok()) return s.fail(st);
  return s.fail(fsync_dir(dir_, &s.env()));
}

Status Log::remove() {
  {
    std::lock_guard lock(s_->mu);
    s_->closed = true;
  }
  return s_->env().remove_all(dir_);
}

// ---- accessors ----

Offset Log::log_start_offset() const { std::lock_guard l(s_->mu); return Offset(s_->log_start); }
Offset Log::log_end_offset() const { std::lock_guard l(s_->mu); return Offset(s_->leo); }
Offset Log::high_watermark() const { std::lock_guard l(s_->mu); return Offset(s_->hw); }
Offset Log::recovery_point() const { return Offset(s_->flushed.load()); }
Offset Log::written_end_offset() const {
  std::lock_guard l(s_->mu);
  if (s_->segments.empty()) return Offset(s_->leo);
  return Offset(std::min(s_->leo, s_->active().written_next_offset()));
}

void Log::set_manual_high_watermark() {
  std::lock_guard l(s_->mu);
  s_->opts.hw_policy = HwPolicy::kManual;
}

std::optional<ProducerEntry> Log::producer_entry(int64_t producer_id) const {
  std::lock_guard l(s_->mu);
  if (const ProducerEntry* e = s_->producers.find(producer_id)) return *e;
  return std::nullopt;
}

std::vector<std::pair<int64_t, ProducerEntry>> Log::producers() const {
  std::lock_guard l(s_->mu);
  std::vector<std::pair<int64_t, ProducerEntry>> out(s_->producers.producers().begin(), s_->producers.producers().end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

void Log::set_high_watermark(Offset hw) {
  std::lock_guard l(s_->mu);
  s_->hw = std::clamp(hw.value(), s_->log_start, s_->leo);
}

int64_t Log::size_bytes() const {
  std::lock_guard l(s_->mu);
  int64_t n = 0;
  for (const auto& [base, seg] : s_->segments) n += seg->size();
  return n;
}

int Log::segment_count() const { std::lock_guard l(s_->mu); return static_cast<int>(s_->segments.size()); }
RecoveryInfo Log::recovery_info() const { std::lock_guard l(s_->mu); return s_->recovery; }
LogConfig Log::config() const { std::lock_guard l(s_->mu); return s_->opts.config; }
bool Log::compacted() const { std::lock_guard l(s_->mu); return s_->opts.config.cleanup_compact; }
int32_t Log::min_insync_replicas() const { std::lock_guard l(s_->mu); return s_->opts.config.min_insync_replicas; }
std::pair<std::string, std::string> Log::throttled_replicas() const {
  std::lock_guard l(s_->mu);
  return {s_->opts.config.leader_throttled_replicas, s_->opts.config.follower_throttled_replicas};
}
bool Log::write_caching() const { std::lock_guard l(s_->mu); return s_->opts.config.write_caching; }
void Log::update_config(const LogConfig& config) { std::lock_guard l(s_->mu); s_->opts.config = config; }

EpochEndOffset Log::end_offset_for_epoch(LeaderEpoch epoch) const {
  std::lock_guard l(s_->mu);
  const auto& e = s_->epochs;
  // Largest epoch <= requested; its end is the next entry's start, or LEO.
  auto it = std::upper_bound(e.begin(), e.end(), epoch.value(),
                             [](int32_t v, const EpochEntry& x) { return v < x.epoch; });
  if (it == e.begin()) return {};
  auto found = std::prev(it);
  int64_t end = it == e.end() ? s_->leo : it->start_offset;
  return {LeaderEpoch(found->epoch), Offset(end)};
}

std::optional<Offset> Log::leader_epoch_start_offset(LeaderEpoch epoch) const {
  std::lock_guard l(s_->mu);
  for (const auto& x : s_->epochs)
    if (x.epoch == epoch.value()) return Offset(x.start_offset);
  return std::nullopt;
}

LeaderEpoch Log::latest_epoch() const {
  std::lock_guard l(s_->mu);
  return LeaderEpoch(s_->epochs.empty() ? -1 : s_->epochs.back().epoch);
}

}  // namespace millrace::storage
