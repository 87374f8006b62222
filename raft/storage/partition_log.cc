#include "raft/storage/partition_log.h"

#include <algorithm>
#include <cerrno>
#include <climits>

#include "protocol/record/batch_header.h"
#include "raft/storage/entry_batch.h"
#include "storage/file_region.h"

namespace millrace::raft {

using storage::Errc;
using storage::Result;
using storage::Status;

namespace {

Status invalid(const std::string& what) { return Status(Errc::kInvalidArgument, what); }

std::string num(int64_t v) { return std::to_string(v); }

// Reads `n` bytes at `at` of the region's file into `out`.
Status read_at(const storage::FileRegion& r, int64_t at, size_t n, std::vector<uint8_t>& out) {
  out.resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t got = r.file->env().pread(r.fd(), out.data() + done, n - done, static_cast<off_t>(at + static_cast<int64_t>(done)));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return storage::io_error("read " + r.file->path(), errno);
    if (got == 0) return Status(Errc::kCorruptSegment, r.file->path() + ": region past the end of the file");
    done += static_cast<size_t>(got);
  }
  return {};
}

// Every entry of a region, in order. With span_min > 0 a data batch of at
// least span_min bytes is read by its header only and becomes an entry naming
// its file range; the others are copied out of a read-ahead of 64 KiB.
Status region_entries(const storage::FileRegion& r, size_t span_min, std::vector<Entry>& out) {
  constexpr size_t kReadAhead = 64 << 10;
  std::vector<uint8_t> chunk, header;
  int64_t chunk_at = 0;
  const int64_t end = r.position + r.length;
  auto in_chunk = [&](int64_t at, size_t n) {
    return at >= chunk_at && at + static_cast<int64_t>(n) <= chunk_at + static_cast<int64_t>(chunk.size());
  };
  if (span_min == 0) {
    if (Status st = read_at(r, r.position, static_cast<size_t>(r.length), chunk); !st.ok()) return st;
    chunk_at = r.position;
  }
  for (int64_t pos = r.position; pos < end;) {
    const size_t left = static_cast<size_t>(end - pos);
    std::span<const uint8_t> head;
    if (in_chunk(pos, std::min(left, record::kBatchHeaderSize))) {
      head = std::span<const uint8_t>(chunk).subspan(static_cast<size_t>(pos - chunk_at));
    } else {
      if (Status st = read_at(r, pos, std::min(left, record::kBatchHeaderSize), header); !st.ok()) return st;
      head = header;
    }
    auto hr = record::parse_batch_header(head);
    if (hr.error != record::BatchError::kOk)
      return Status(Errc::kCorruptMessage, std::string("batch header: ") + record::to_string(hr.error));
    const size_t size = hr.header.total_size();
    if (size > left) return Status(Errc::kCorruptMessage, "batch longer than its region");
    if (span_min > 0 && size >= span_min && !hr.header.is_control()) {
      Entry e;
      e.first = Index(hr.header.base_offset);
      e.last = Index(hr.header.last_offset());
      e.term = Term(hr.header.partition_leader_epoch);
      e.type = EntryType::kData;
      e.file = std::make_shared<const FileSpan>(FileSpan{r.file, r.fd(), pos, static_cast<int64_t>(size)});
      out.push_back(std::move(e));
    } else {
      if (!in_chunk(pos, size)) {
        if (Status st = read_at(r, pos, std::min(left, std::max(size, kReadAhead)), chunk); !st.ok()) return st;
        chunk_at = pos;
      }
      auto e = batch_to_entry(std::span<const uint8_t>(chunk).subspan(static_cast<size_t>(pos - chunk_at), size));
      if (!e.ok()) return e.status();
      out.push_back(std::move(*e));
    }
    pos += static_cast<int64_t>(size);
  }
  return {};
}

}  // namespace

PartitionRaftLog::PartitionRaftLog(std::shared_ptr<storage::Log> log, PartitionRaftLogOptions options)
    : log_(std::move(log)), options_(std::move(options)), snapshot_path_(log_->dir() / kSnapshotFileName) {}

Result<std::unique_ptr<PartitionRaftLog>> PartitionRaftLog::open(std::shared_ptr<storage::Log> log,
                                                                 PartitionRaftLogOptions options) {
  if (!log) return Status(Errc::kInvalidArgument, "no storage log");
  std::unique_ptr<PartitionRaftLog> p(new PartitionRaftLog(std::move(log), std::move(options)));
  if (Status st = p->recover(); !st.ok()) return st;
  return p;
}

bool PartitionRaftLog::fail(Status st) const {
  error_ = std::move(st);
  return false;
}

// ---- reads ----

Index PartitionRaftLog::start() const {
  const int64_t s = log_->log_start_offset().value();
  if (s == seen_storage_start_) return start_;
  Index st(s);
  // DeleteRecords may cut a batch: the first whole entry starts after it.
  auto r = log_->read(Offset(s), 1, log_->log_end_offset());
  if (!r.ok()) return st;  // not cached: asked again next time
  if (!r->empty() && r->first_offset < s) st = Index(r->last_offset + 1);
  seen_storage_start_ = s;
  start_ = st;
  return st;
}

Index PartitionRaftLog::last() const { return Index(log_->log_end_offset().value() - 1); }

std::optional<Term> PartitionRaftLog::epoch_covering(Index i) const {
  // The latest epoch whose start offset is <= i, walking the cache backwards
  // from the newest (the core asks about recent offsets almost always).
  LeaderEpoch e = log_->latest_epoch();
  while (e.value() >= 0) {
    auto s = log_->leader_epoch_start_offset(e);
    if (s && s->value() <= i.value()) return e;
    if (e.value() == 0) break;
    e = log_->end_offset_for_epoch(LeaderEpoch(e.value() - 1)).epoch;  // -1 when none
  }
  return std::nullopt;
}

std::optional<Term> PartitionRaftLog::term_at(Index i) const {
  const Index s = start();
  if (i == s - 1) return snapshot_term(i);
  if (i < s || i > last()) return std::nullopt;
  return epoch_covering(i);
}

Term PartitionRaftLog::snapshot_term(Index at) const {
  if (at <= base_.index) return base_.term;
  // Known limitation: if the epoch cache was rebuilt from the remaining
  // segments (a damaged leader-epoch.checkpoint) it cannot know the epoch
  // below the first batch; the installed snapshot's term is the fallback.
  return epoch_covering(at).value_or(base_.term);
}

SnapshotMeta PartitionRaftLog::snapshot() const {
  const Index at = start() - 1;
  SnapshotMeta m;
  m.index = at;
  m.term = snapshot_term(at);
  m.config = base_.config;
  for (const Entry& c : configs_) {
    if (c.last > at) break;
    Config cfg;
    if (c.data && Config::decode(*c.data, &cfg)) m.config = std::move(cfg);
  }
  return m;
}

std::vector<Entry> PartitionRaftLog::config_entries() const {
  const Index s = start();
  std::vector<Entry> out;
  for (const Entry& c : configs_)
    if (c.first >= s) out.push_back(c);
  return out;
}

std::vector<Entry> PartitionRaftLog::entries(Index from, size_t max_bytes) const {
  std::vector<Entry> out;
  const Index l = last();
  if (from < start() || from > l) return out;
  size_t total = 0;
  int64_t next = from.value();
  while (next <= l.value()) {
    const size_t left = max_bytes > total ? max_bytes - total : 1;
    const auto want = static_cast<int32_t>(std::clamp<size_t>(left, 1, INT32_MAX));
    auto region = log_->read(Offset(next), want, Offset(l.value() + 1));
    if (!region.ok()) { fail(region.status()); break; }
    if (region->empty()) break;
    std::vector<Entry> got;
    if (Status st = region_entries(*region, options_.file_span_min_bytes, got); !st.ok()) {
      fail(st);
      return out;
    }
    bool full = false;
    for (Entry& e : got) {
      if (e.last < from) continue;
      if (!out.empty() && total + e.bytes() > max_bytes) { full = true; break; }
      total += e.bytes();
      out.push_back(std::move(e));
    }
    if (full || total >= max_bytes) break;
    next = region->last_offset + 1;
  }
  return out;
}

// ---- writes ----

bool PartitionRaftLog::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return true;
  if (entries.front().first != last() + 1)
    return fail(invalid("append at " + num(entries.front().first.value()) + ", the log ends at " + num(last().value())));
  std::vector<uint8_t> batches;
  const int64_t now = options_.clock();
  Index expect = entries.front().first;
  Term prev_term = term_at(last()).value_or(Term(0));  // the snapshot's term on an empty log
  const size_t configs_before = configs_.size();
  const Offset floor_before = floor_;
  for (const Entry& e : entries) {
    if (e.first != expect) return fail(invalid("entry at " + num(e.first.value()) + " is not contiguous"));
    if (e.term < prev_term) return fail(invalid("entry at " + num(e.first.value()) + " has a decreasing term"));
    if (Status st = entry_to_batch(e, now, batches); !st.ok()) return fail(st);
    expect = e.last + 1;
    prev_term = e.term;
    if (e.type == EntryType::kVoters) configs_.push_back(e);
    Offset to;
    if (e.type == EntryType::kLogStart && e.data && decode_log_start(*e.data, &to)) floor_ = std::max(floor_, to);
  }
  // A Voters entry reaches raft.snapshot before the log: retention may delete
  // its segment later, the file still knows it (snapshot_file.h). A LogStart
  // entry's floor too: a restart must not bring back what it deleted.
  if (configs_.size() != configs_before || floor_ != floor_before) {
    if (Status st = write_file(); !st.ok()) {
      configs_.resize(configs_before);
      floor_ = floor_before;
      return fail(st);
    }
  }
  auto r = log_->append_replicated(batches);
  if (!r.ok()) {
    configs_.resize(configs_before);  // the file may name them: recover() drops what is past the log end
    return fail(r.status());
  }
  // A LogStart entry takes effect at once, up to what this replica knows is
  // committed; set_commit() moves the rest as the commit index passes it.
  if (floor_ != floor_before) {
    if (auto moved = log_->set_high_watermark_and_log_start(log_->high_watermark(), floor_); !moved.ok())
      return fail(moved.status());
  }
  return true;
}

bool PartitionRaftLog::truncate_suffix(Index from) {
  if (from < start()) return fail(invalid("truncate at " + num(from.value()) + " below the log start"));
  if (Status st = log_->truncate_to(Offset(from.value())); !st.ok()) return fail(st);
  const size_t before = configs_.size();
  std::erase_if(configs_, [&](const Entry& c) { return c.last >= from; });
  // A forgotten Voters entry must leave the file too: if the offset were
  // reused and retention passed it, a restart would believe it was in force.
  if (configs_.size() != before) {
    if (Status st = write_file(); !st.ok()) return fail(st);
  }
  return true;
}

bool PartitionRaftLog::install_snapshot(const SnapshotMeta& meta) {
  // The file first: a crash before the truncation is finished by recover().
  SnapshotMeta old_base = base_;
  std::vector<Entry> old_configs = std::move(configs_);
  base_ = meta;
  configs_.clear();
  if (Status st = write_file(); !st.ok()) {
    base_ = std::move(old_base);
    configs_ = std::move(old_configs);
    return fail(st);
  }
  seen_storage_start_ = -1;
  if (Status st = log_->truncate_fully_and_start_at(Offset(meta.index.value() + 1)); !st.ok()) return fail(st);
  return true;
}

bool PartitionRaftLog::adopt_config(const Config& config) {
  SnapshotMeta old_base = base_;
  base_.config = config;
  if (Status st = write_file(); !st.ok()) {
    base_ = std::move(old_base);
    return fail(st);
  }
  return true;
}

bool PartitionRaftLog::sync() {
  if (Status st = log_->flush(); !st.ok()) return fail(st);
  return true;
}

void PartitionRaftLog::set_commit(Index commit) {
  const Offset hw(commit.value() + 1);
  if (floor_ <= log_->log_start_offset()) {
    log_->set_high_watermark(hw);
    return;
  }
  // The start moves with the high watermark, under one lock: no reader sees
  // an offset below the floor become readable (an error takes the dir
  // offline, which the next write reports).
  if (auto r = log_->set_high_watermark_and_log_start(hw, floor_); !r.ok()) fail(r.status());
}

// ---- the raft.snapshot file ----

SnapshotFileContent PartitionRaftLog::file_content() const {
  SnapshotFileContent c;
  c.base = base_;
  c.log_start_floor = floor_;
  // Older Voters entries than the one in force at the log start are history.
  const Index s = start();
  size_t from = 0;
  for (size_t i = 0; i < configs_.size(); ++i)
    if (configs_[i].last < s) from = i;
  c.configs.assign(configs_.begin() + static_cast<ptrdiff_t>(from), configs_.end());
  return c;
}

Status PartitionRaftLog::write_file() {
  SnapshotFileContent c = file_content();
  if (Status st = write_snapshot_file(snapshot_path_, c, options_.env); !st.ok()) return st;
  configs_ = std::move(c.configs);
  return Status::Ok();
}

Status PartitionRaftLog::recover() {
  auto f = read_snapshot_file(snapshot_path_, options_.env);
  if (!f.ok() && f.code() != Errc::kNotFound) return f.status();
  const Index s(log_->log_start_offset().value());
  if (!f.ok()) {
    // A log that never ran Raft (or a new one): scan it for Voters entries.
    base_ = SnapshotMeta{s - 1, epoch_covering(s - 1).value_or(Term(0)), Config{}};
    configs_.clear();
    for (Index next = start(); next <= last();) {
      auto batch = entries(next, 1 << 20);
      if (batch.empty()) return error_.ok() ? Status(Errc::kCorruptSegment, "scan stopped at " + num(next.value())) : error_;
      for (Entry& e : batch) {
        Offset to;
        if (e.type == EntryType::kLogStart && e.data && decode_log_start(*e.data, &to)) floor_ = std::max(floor_, to);
        if (e.type == EntryType::kVoters) configs_.push_back(std::move(e));
      }
      next = batch.back().last + 1;
    }
    return write_file();
  }
  base_ = std::move(f->base);
  configs_ = std::move(f->configs);
  floor_ = f->log_start_floor;
  if (base_.index + 1 > s) {
    // Only install_snapshot moves base_; retention only moves the start up
    // from base_.index + 1. So this is an install that crashed between
    // writing the file and truncating the log: finish it.
    configs_.clear();
    if (Status st = log_->truncate_fully_and_start_at(Offset(base_.index.value() + 1)); !st.ok()) return st;
    seen_storage_start_ = -1;
    return Status::Ok();
  }
  // Voters entries written to the file whose append did not survive (an
  // unsynced tail, a failed append) are forgotten, in the file too.
  const Index l = last();
  const size_t before = configs_.size();
  std::erase_if(configs_, [&](const Entry& c) { return c.last > l; });
  // The rest that the log still holds must be there, byte for byte.
  for (const Entry& c : configs_) {
    if (c.first < start()) continue;
    auto found = entries(c.first, 1);
    if (found.empty() || !(found.front() == c))
      return Status(Errc::kCorruptSegment, snapshot_path_.string() + ": Voters entry at " + num(c.first.value()) +
                                               " does not match the log");
  }
  if (configs_.size() != before) return write_file();
  return Status::Ok();
}

}  // namespace millrace::raft
