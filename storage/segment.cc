#include "storage/segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>

namespace millrace::storage {

namespace fs = std::filesystem;

FileHandle::FileHandle(int fd, std::string path, Env* env)
    : fd_(fd), path_(std::move(path)), env_(env_or_posix(env)) {}

FileHandle::~FileHandle() {
  if (fd_ >= 0) env_->close(fd_);
}

std::string segment_file_name(int64_t base_offset, const char* suffix) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020" PRId64, base_offset);
  return std::string(buf) + suffix;
}

Segment::Segment(fs::path dir, int64_t base_offset, int64_t now_ms)
    : dir_(std::move(dir)),
      base_offset_(base_offset),
      next_offset_(base_offset),
      batches_end_(base_offset),
      written_next_offset_(base_offset),
      created_ms_(now_ms) {}

fs::path Segment::log_path() const { return dir_ / segment_file_name(base_offset_, ".log"); }
fs::path Segment::index_path() const { return dir_ / segment_file_name(base_offset_, ".index"); }
fs::path Segment::time_index_path() const { return dir_ / segment_file_name(base_offset_, ".timeindex"); }

Result<std::shared_ptr<Segment>> Segment::create(const fs::path& dir, int64_t base_offset, int64_t now_ms,
                                                 TailWriterOptions tail) {
  std::shared_ptr<Segment> s(new Segment(dir, base_offset, now_ms));
  s->env_ = env_or_posix(tail.env);
  fs::path p = s->log_path();
  int fd = s->env_->open(p.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create " + p.string(), errno);
  s->file_ = std::make_shared<FileHandle>(fd, p.string(), s->env_);
  s->tail_ = std::make_unique<TailWriter>(s->file_, std::move(tail), 0);
  return s;
}

Result<std::shared_ptr<Segment>> Segment::open(const fs::path& dir, int64_t base_offset, int64_t now_ms,
                                               TailWriterOptions tail) {
  std::shared_ptr<Segment> s(new Segment(dir, base_offset, now_ms));
  s->env_ = env_or_posix(tail.env);
  fs::path p = s->log_path();
  int fd = s->env_->open(p.c_str(), O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) return Status(Errc::kCorruptSegment, "open " + p.string() + ": " + io_error("", errno).message());
  s->file_ = std::make_shared<FileHandle>(fd, p.string(), s->env_);
  struct stat st{};
  if (s->env_->fstat(fd, &st) != 0)
    return Status(Errc::kCorruptSegment, "size of " + p.string() + ": " + io_error("", errno).message());
  s->tail_ = std::make_unique<TailWriter>(s->file_, std::move(tail), static_cast<int64_t>(st.st_size));
  // Blocks reserved past the end by a run that crashed before its close.
  if (Status t = s->tail_->trim(); !t.ok()) return t;
  return s;
}

void Segment::index_batch(int64_t position, int64_t base_offset, int64_t last_offset, int64_t max_timestamp,
                          int32_t size, int32_t index_interval_bytes) {
  if (index_.entries().empty() || bytes_since_index_ >= index_interval_bytes) {
    index_.append({static_cast<int32_t>(base_offset - base_offset_), static_cast<int32_t>(position)});
    bytes_since_index_ = 0;
  }
  bytes_since_index_ += size;
  if (max_timestamp > max_timestamp_) {
    max_timestamp_ = max_timestamp;
    max_timestamp_offset_ = base_offset;
    time_index_.maybe_append({max_timestamp, static_cast<int32_t>(base_offset - base_offset_)});
  }
  next_offset_ = batches_end_ = last_offset + 1;
}

Status Segment::append(std::span<const uint8_t> bytes, const std::vector<BatchMeta>& metas,
                       int32_t index_interval_bytes) {
  const int64_t start = size();
  const bool had_pending = pending();
  if (Status st = tail_->append(bytes); !st.ok()) return st;
  if (!had_pending && pending()) written_next_offset_ = batches_end_;  // batches before this one are written
  for (const auto& m : metas)
    index_batch(start + m.position, m.base_offset, m.last_offset, m.max_timestamp, m.size, index_interval_bytes);
  return Status::Ok();
}

Status Segment::write_out() {
  if (!pending()) return Status::Ok();
  return tail_->write_out();
}

Status Segment::finish_tail() {
  if (Status st = tail_->release(); !st.ok()) return st;
  return tail_->trim();
}

Result<ScanEnd> Segment::scan(int64_t from, bool check_crc, const BatchVisitor& visit) const {
  const int64_t end = file_size();
  std::vector<uint8_t> buf(1 << 20);
  int64_t buf_pos = from;  // file position of buf[0]
  size_t buf_len = 0;
  int64_t pos = from;
  int64_t expect_offset = -1;
  ScanEnd out;
  auto fill = [&](size_t need) -> Status {
    // Make buf hold [pos, pos + need) if the file has it.
    if (pos >= buf_pos && pos + static_cast<int64_t>(need) <= buf_pos + static_cast<int64_t>(buf_len))
      return Status::Ok();
    if (need > buf.size()) buf.resize(need);
    buf_pos = pos;
    buf_len = 0;
    size_t want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(buf.size()), end - pos));
    while (buf_len < want) {
      ssize_t n = file_->env().pread(file_->fd(), buf.data() + buf_len, want - buf_len, pos + static_cast<int64_t>(buf_len));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status(Errc::kCorruptSegment, "read " + file_->path() + ": " + io_error("", errno).message());
      }
      if (n == 0) break;
      buf_len += static_cast<size_t>(n);
    }
    return Status::Ok();
  };
  while (pos < end) {
    int64_t left = end - pos;
    if (left < static_cast<int64_t>(record::kBatchHeaderSize)) {
      out = {pos, false, "torn batch header at " + std::to_string(pos)};
      return out;
    }
    if (Status s = fill(record::kBatchHeaderSize); !s.ok()) return s;
    std::span<const uint8_t> at(buf.data() + (pos - buf_pos), buf_len - static_cast<size_t>(pos - buf_pos));
    auto hr = record::parse_batch_header(at);
    if (hr.error != record::BatchError::kOk) {
      out = {pos, false, std::string("bad batch header at ") + std::to_string(pos) + ": " + record::to_string(hr.error)};
      return out;
    }
    const auto& h = hr.header;
    int64_t total = static_cast<int64_t>(h.total_size());
    if (total > left) {
      out = {pos, false, "torn batch at " + std::to_string(pos)};
      return out;
    }
    if (h.base_offset < base_offset_ || (expect_offset >= 0 && h.base_offset < expect_offset) ||
        h.last_offset() - base_offset_ > INT32_MAX) {
      out = {pos, false, "offset " + std::to_string(h.base_offset) + " out of order at " + std::to_string(pos)};
      return out;
    }
    if (Status s = fill(static_cast<size_t>(total)); !s.ok()) return s;
    std::span<const uint8_t> whole(buf.data() + (pos - buf_pos), static_cast<size_t>(total));
    if (check_crc) {
      auto e = record::validate_batch(whole);
      if (e != record::BatchError::kOk) {
        out = {pos, false, std::string("batch at ") + std::to_string(pos) + ": " + record::to_string(e)};
        return out;
      }
    }
    if (!visit(pos, h, whole)) {
      out = {pos, true, ""};
      return out;
    }
    expect_offset = h.last_offset() + 1;
    pos += total;
  }
  out.valid_bytes = pos;
  return out;
}

Result<ScanEnd> Segment::recover(int32_t index_interval_bytes, const BatchVisitor& visit) {
  index_.clear();
  time_index_.clear();
  bytes_since_index_ = 0;
  next_offset_ = batches_end_ = base_offset_;
  max_timestamp_ = -1;
  max_timestamp_offset_ = -1;
  auto r = scan(0, true, [&](int64_t pos, const record::BatchHeader& h, std::span<const uint8_t> whole) {
    index_batch(pos, h.base_offset, h.last_offset(), h.max_timestamp, static_cast<int32_t>(whole.size()),
                index_interval_bytes);
    return visit ? visit(pos, h, whole) : true;
  });
  if (!r.ok()) return r;
  if (!r->clean) {
    if (env_->ftruncate(file_->fd(), r->valid_bytes) != 0) return io_error("truncate " + file_->path(), errno);
    tail_->reset(file_, r->valid_bytes);
  }
  return r;
}

Status Segment::load_indexes(int32_t index_interval_bytes) {
  auto idx = OffsetIndex::load(index_path(), std::max<int64_t>(size(), 1), env_);
  auto tidx = TimeIndex::load(time_index_path(), env_);
  if (!idx.ok() || !tidx.ok() || (size() > 0 && idx->entries().empty())) {
    auto r = recover(index_interval_bytes, nullptr);
    if (!r.ok()) return r.status();
    if (!r->clean) return Status(Errc::kCorruptSegment, file_->path() + ": " + r->why);
    return Status::Ok();
  }
  index_ = std::move(*idx);
  time_index_ = std::move(*tidx);
  if (!time_index_.entries().empty()) {
    max_timestamp_ = time_index_.entries().back().timestamp;
    max_timestamp_offset_ = base_offset_ + time_index_.entries().back().relative_offset;
  }
  // Counters from the tail after the last index entry.
  int64_t from = index_.entries().empty() ? 0 : index_.entries().back().position;
  bytes_since_index_ = 0;
  next_offset_ = base_offset_;
  batches_end_ = base_offset_;  // unknown when the index covers every batch: the low bound
  auto r = scan(from, false, [&](int64_t, const record::BatchHeader& h, std::span<const uint8_t> whole) {
    next_offset_ = batches_end_ = h.last_offset() + 1;
    bytes_since_index_ += static_cast<int64_t>(whole.size());
    if (h.max_timestamp > max_timestamp_) {
      max_timestamp_ = h.max_timestamp;
      max_timestamp_offset_ = h.base_offset;
      time_index_.maybe_append({h.max_timestamp, static_cast<int32_t>(h.base_offset - base_offset_)});
    }
    return true;
  });
  if (!r.ok()) return r.status();
  if (!r->clean) return Status(Errc::kCorruptSegment, file_->path() + " after clean shutdown: " + r->why);
  return Status::Ok();
}

int64_t Segment::index_lookup(int64_t offset) const {
  int64_t rel = offset - base_offset_;
  if (rel <= 0) return 0;
  if (rel > INT32_MAX) rel = INT32_MAX;
  return index_.lookup(static_cast<int32_t>(rel)).position;
}

Result<std::optional<Segment::Found>> Segment::find_in(const FileHandle& file, int64_t offset, int64_t start_position,
                                                      int64_t limit) {
  const FileHandle* file_ = &file;
  int64_t pos = start_position;
  uint8_t hdr[record::kBatchHeaderSize];
  while (pos + static_cast<int64_t>(record::kBatchHeaderSize) <= limit) {
    ssize_t n = file_->env().pread(file_->fd(), hdr, sizeof hdr, pos);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("read " + file_->path(), errno);
    }
    if (n != static_cast<ssize_t>(sizeof hdr)) break;
    auto hr = record::parse_batch_header(std::span<const uint8_t>(hdr, sizeof hdr));
    if (hr.error != record::BatchError::kOk)
      return Status(Errc::kCorruptSegment, file_->path() + ": bad batch header at " + std::to_string(pos));
    if (hr.header.last_offset() >= offset) return std::optional<Found>(Found{pos, hr.header});
    pos += static_cast<int64_t>(hr.header.total_size());
  }
  return std::optional<Found>();
}

Status Segment::truncate_to_position(int64_t position, int64_t next_offset) {
  if (Status st = write_out(); !st.ok()) return st;
  if (env_->ftruncate(file_->fd(), position) != 0) return io_error("truncate " + file_->path(), errno);
  tail_->reset(file_, position);
  batches_end_ = base_offset_;  // the low bound: the last batch left is not known here
  index_.truncate_to_position(position);
  time_index_.truncate_to_offset(static_cast<int32_t>(std::max<int64_t>(0, next_offset - base_offset_)));
  next_offset_ = next_offset;
  if (!time_index_.entries().empty()) {
    max_timestamp_ = time_index_.entries().back().timestamp;
    max_timestamp_offset_ = base_offset_ + time_index_.entries().back().relative_offset;
  } else {
    max_timestamp_ = -1;
    max_timestamp_offset_ = -1;
  }
  bytes_since_index_ = index_.entries().empty() ? 0 : position - index_.entries().back().position;
  return Status::Ok();
}

Status Segment::flush() {
  if (Status st = write_out(); !st.ok()) return st;
  if (env_->fdatasync(file_->fd()) != 0) return io_error("fdatasync " + file_->path(), errno);
  return Status::Ok();
}

Status Segment::sync_indexes(bool fsync) {
  if (Status s = index_.sync(index_path(), fsync, env_); !s.ok()) return s;
  return time_index_.sync(time_index_path(), fsync, env_);
}

void Segment::seal() {
  if (max_timestamp_ >= 0)
    time_index_.maybe_append({max_timestamp_, static_cast<int32_t>(max_timestamp_offset_ - base_offset_)});
}

Status Segment::remove_index_files() {
  for (const auto& p : {index_path(), time_index_path()}) {
    if (Status s = env_->remove_file(p); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Segment::remove_files() {
  for (const auto& p : {log_path(), index_path(), time_index_path()}) {
    if (Status s = env_->remove_file(p); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::shared_ptr<Segment>> Segment::create_replacement(const fs::path& dir, int64_t base_offset,
                                                             int64_t now_ms, Env* env) {
  std::shared_ptr<Segment> s(new Segment(dir, base_offset, now_ms));
  s->env_ = env_or_posix(env);
  fs::path p = dir / segment_file_name(base_offset, kCleanedSuffix);
  int fd = s->env_->open(p.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create " + p.string(), errno);
  s->file_ = std::make_shared<FileHandle>(fd, s->log_path().string(), s->env_);  // its name once swapped in
  TailWriterOptions tail;
  tail.env = s->env_;
  s->tail_ = std::make_unique<TailWriter>(s->file_, std::move(tail), 0);
  return s;
}

Status Segment::replace_with(Segment& r) {
  fs::path from = dir_ / segment_file_name(base_offset_, kCleanedSuffix);
  if (Status st = remove_index_files(); !st.ok()) return st;
  if (env_->rename(from.c_str(), log_path().c_str()) != 0) return io_error("rename " + from.string(), errno);
  file_ = r.file_;
  tail_->reset(file_, r.size());
  index_ = std::move(r.index_);
  time_index_ = std::move(r.time_index_);
  bytes_since_index_ = r.bytes_since_index_;
  max_timestamp_ = r.max_timestamp_;
  max_timestamp_offset_ = r.max_timestamp_offset_;
  batches_end_ = r.batches_end_;
  next_offset_ = std::max(next_offset_, r.next_offset_);  // offsets never move back
  return sync_indexes(false);
}

}  // namespace millrace::storage
