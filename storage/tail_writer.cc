#include "storage/tail_writer.h"

#include "storage/env.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace millrace::storage {

// ---- AppendBufferPool ----

bool AppendBufferPool::acquire(int64_t n) {
  int64_t used = used_.load(std::memory_order_relaxed);
  do {
    if (used + n > limit_) return false;
  } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
  return true;
}

void AppendBufferPool::release(int64_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }

void AppendBufferPool::note_pending(std::weak_ptr<Log> log) {
  {
    std::lock_guard l(mu_);
    pending_.push_back(std::move(log));
  }
  cv_.notify_one();
}

std::vector<std::weak_ptr<Log>> AppendBufferPool::take_pending(int64_t linger_ms) {
  std::unique_lock l(mu_);
  cv_.wait(l, [&] { return stopped_ || !pending_.empty(); });
  if (stopped_) return {};
  cv_.wait_for(l, std::chrono::milliseconds(linger_ms), [&] { return stopped_; });
  if (stopped_) return {};
  return std::exchange(pending_, {});
}

void AppendBufferPool::stop() {
  {
    std::lock_guard l(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

// ---- TailWriter ----

TailWriter::TailWriter(std::shared_ptr<const FileHandle> file, TailWriterOptions options, int64_t file_size)
    : file_(std::move(file)), opts_(std::move(options)) {
  opts_.buffer_bytes = (std::max<int64_t>(opts_.buffer_bytes, 0) + kPageSize - 1) / kPageSize * kPageSize;
  chunk_start_ = file_size;
  reserved_end_ = file_size;
  trim_needed_ = file_size > 0;
  publish();
}

TailWriter::~TailWriter() {
  if (buf_ && opts_.pool) opts_.pool->release(opts_.buffer_bytes);
}

void TailWriter::publish() {
  file_size_.store(chunk_start_ + written_, std::memory_order_release);
  end_.store(chunk_start_ + filled_, std::memory_order_release);
}

bool TailWriter::ensure_buffer() {
  if (buf_) return true;
  if (opts_.buffer_bytes == 0) return false;
  if (opts_.pool && !opts_.pool->acquire(opts_.buffer_bytes)) return false;
  buf_.reset(new uint8_t[static_cast<size_t>(opts_.buffer_bytes)]);  // no zeroing: only filled bytes are written
  // Re-anchor the chunk at the page holding the end of the file; the bytes
  // before the end in that page are in the file already and never rewritten.
  const int64_t size = chunk_start_ + written_;
  chunk_start_ = size / kPageSize * kPageSize;
  written_ = filled_ = size - chunk_start_;
  return true;
}

Status TailWriter::reserve(int64_t target_end) {
  if (opts_.preallocate_bytes <= 0 || target_end <= reserved_end_) return Status::Ok();
  const int64_t from = std::max(reserved_end_, file_size());
  // The step grows with the file (about doubling it), up to preallocate_bytes:
  // a busy segment soon reserves whole steps, while a partition that wrote a
  // few batches (thousands of idle replicas on a broker, each with its
  // LeaderChange entries) holds kMinReserveStep, not preallocate_bytes each.
  const int64_t step = std::min(opts_.preallocate_bytes, std::max(kMinReserveStep, file_size()));
  const int64_t step_end = (target_end + step + kPageSize - 1) / kPageSize * kPageSize;
  for (int64_t want_end : {step_end, (target_end + kPageSize - 1) / kPageSize * kPageSize}) {
    if (file_->env().fallocate(file_->fd(), FALLOC_FL_KEEP_SIZE, from, want_end - from) == 0) {
      reserved_end_ = want_end;
      trim_needed_ = true;
      return Status::Ok();
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) {
      opts_.preallocate_bytes = 0;  // filesystem without fallocate: plain writes
      return Status::Ok();
    }
    if (errno != ENOSPC && errno != EDQUOT) break;
    // A full step does not fit: try just what this append needs.
  }
  return io_error("reserve space in " + file_->path(), errno);
}

Status TailWriter::write_range(const uint8_t* data, size_t n, int64_t at, size_t& done) {
  done = 0;
  while (done < n) {
    ssize_t w = file_->env().pwrite(file_->fd(), data + done, n - done, at + static_cast<int64_t>(done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return io_error("append to " + file_->path(), errno);
    }
    done += static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status TailWriter::cut_back(int64_t size, Status why) {
  // Whatever part of the append reached the file goes, so the tail stays a
  // clean prefix of whole batches.
  if (file_->env().ftruncate(file_->fd(), size) != 0)
    // Not refused whole any more: bytes of it may stay in the file (fatal).
    return Status(Errc::kStorageError, why.message() + "; and truncate back failed: " + io_error("", errno).message());
  if (buf_) {
    chunk_start_ = size / kPageSize * kPageSize;
    written_ = filled_ = size - chunk_start_;
  } else {
    chunk_start_ = size;
    written_ = filled_ = 0;
  }
  publish();
  return why;
}

Status TailWriter::write_through(std::span<const uint8_t> bytes) {
  const int64_t start = end();
  size_t done = 0;
  if (Status s = write_range(bytes.data(), bytes.size(), start, done); !s.ok()) return cut_back(start, s);
  chunk_start_ = start + static_cast<int64_t>(bytes.size());
  written_ = filled_ = 0;
  publish();
  return Status::Ok();
}

Status TailWriter::append(std::span<const uint8_t> bytes) {
  if (Status s = reserve(end() + static_cast<int64_t>(bytes.size())); !s.ok()) return s;
  if (!ensure_buffer()) return write_through(bytes);
  const int64_t cap = opts_.buffer_bytes;
  const int64_t n = static_cast<int64_t>(bytes.size());
  if (n <= cap - filled_) {  // the common case: a copy, no system call
    std::memcpy(buf_.get() + filled_, bytes.data(), static_cast<size_t>(n));
    filled_ += n;
    publish();
    return Status::Ok();
  }
  // Does not fit: first what is pending, so that a failure below can cut the
  // file back to where this append started.
  if (Status s = write_out(); !s.ok()) return s;
  if (filled_ == cap) {  // the chunk is whole in the file: the next one starts
    chunk_start_ += cap;
    written_ = filled_ = 0;
  }
  const int64_t start = end();
  int64_t done = 0;
  while (done < n) {
    if (filled_ == 0 && n - done >= cap) {
      // Whole chunks straight from the caller's bytes (large batches).
      const int64_t whole = (n - done) / cap * cap;
      size_t w = 0;
      if (Status s = write_range(bytes.data() + done, static_cast<size_t>(whole), chunk_start_, w); !s.ok())
        return cut_back(start, s);
      chunk_start_ += whole;
      done += whole;
      continue;
    }
    const int64_t take = std::min(cap - filled_, n - done);
    std::memcpy(buf_.get() + filled_, bytes.data() + done, static_cast<size_t>(take));
    filled_ += take;
    done += take;
    if (filled_ == cap) {
      size_t w = 0;
      Status s = write_range(buf_.get() + written_, static_cast<size_t>(filled_ - written_), chunk_start_ + written_, w);
      if (!s.ok()) return cut_back(start, s);
      chunk_start_ += cap;
      written_ = filled_ = 0;
    }
  }
  publish();
  return Status::Ok();
}

Status TailWriter::write_out() {
  if (filled_ == written_) return Status::Ok();
  size_t w = 0;
  Status s = write_range(buf_.get() + written_, static_cast<size_t>(filled_ - written_), chunk_start_ + written_, w);
  written_ += static_cast<int64_t>(w);  // a short write before an error still counts
  publish();
  return s;
}

Status TailWriter::release() {
  if (Status s = write_out(); !s.ok()) return s;
  if (!buf_) return Status::Ok();
  buf_.reset();
  if (opts_.pool) opts_.pool->release(opts_.buffer_bytes);
  chunk_start_ += written_;
  written_ = filled_ = 0;
  publish();
  return Status::Ok();
}

Status TailWriter::trim() {
  if (!trim_needed_) return Status::Ok();
  const int64_t size = file_size();
  struct stat st{};
  if (file_->env().fstat(file_->fd(), &st) != 0) return io_error("stat " + file_->path(), errno);
  // Blocks past the end: reserved by an earlier append (maybe before a crash).
  if (static_cast<int64_t>(st.st_blocks) * 512 > (size + kPageSize - 1) / kPageSize * kPageSize) {
    // Truncating to the same size frees them (ext4, xfs); the size is unchanged.
    if (file_->env().ftruncate(file_->fd(), size) != 0) return io_error("trim " + file_->path(), errno);
  }
  reserved_end_ = size;
  trim_needed_ = false;
  return Status::Ok();
}

void TailWriter::reset(std::shared_ptr<const FileHandle> file, int64_t file_size) {
  file_ = std::move(file);
  if (buf_) {
    chunk_start_ = file_size / kPageSize * kPageSize;
    written_ = filled_ = file_size - chunk_start_;
  } else {
    chunk_start_ = file_size;
    written_ = filled_ = 0;
  }
  reserved_end_ = std::min(reserved_end_, file_size);
  publish();
}

}  // namespace millrace::storage
