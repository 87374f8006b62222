#include "storage/fault_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <utility>

namespace millrace::storage {

namespace fs = std::filesystem;

namespace {

std::string parent_of(const std::string& path) { return fs::path(path).parent_path().string(); }

int64_t size_of_path(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::vector<uint8_t> out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

}  // namespace

void FaultInjectionEnv::inject(Op op, int err, std::string path_part, int skip, int times) {
  std::lock_guard l(mu_);
  rules_.push_back({op, err, std::move(path_part), skip, times});
}

void FaultInjectionEnv::clear_faults() {
  std::lock_guard l(mu_);
  rules_.clear();
}

void FaultInjectionEnv::before_create(std::string path_part, std::function<void()> fn) {
  std::lock_guard l(mu_);
  hook_part_ = std::move(path_part);
  hook_ = std::move(fn);
}

int64_t FaultInjectionEnv::faults_fired() const {
  std::lock_guard l(mu_);
  return fired_;
}

bool FaultInjectionEnv::dead() const {
  std::lock_guard l(mu_);
  return dead_;
}

int FaultInjectionEnv::fault_locked(Op op, const std::string& path, bool* shorten) {
  if (dead_) return EIO;
  for (auto& r : rules_) {
    if (r.op != op || r.times == 0) continue;
    if (!r.part.empty() && path.find(r.part) == std::string::npos) continue;
    if (r.skip > 0) {
      --r.skip;
      continue;
    }
    if (r.times > 0) --r.times;
    ++fired_;
    if (r.err == 0 && shorten) {
      *shorten = true;
      return 0;
    }
    return r.err;
  }
  return 0;
}

void FaultInjectionEnv::track_locked(int fd, const std::string& path) {
  if (files_.count(path)) return;
  struct stat st{};
  int64_t size = base_->fstat(fd, &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  files_[path] = {size, -1};  // what was there before this env wrote counts as synced
}

int FaultInjectionEnv::open(const char* path, int flags, mode_t mode) {
  const std::string p = path;
  const bool create = (flags & O_CREAT) != 0;
  if (create) {
    std::function<void()> hook;
    {
      std::lock_guard l(mu_);
      if (hook_ && p.find(hook_part_) != std::string::npos) hook = std::exchange(hook_, nullptr);
    }
    if (hook) hook();
  }
  std::lock_guard l(mu_);
  if (create) {
    if (int e = fault_locked(Op::kCreate, p); e != 0) {
      errno = e;
      return -1;
    }
  }
  const bool existed = size_of_path(p) >= 0;
  int fd = base_->open(path, flags, mode);
  if (fd < 0) return fd;
  fd_path_[fd] = p;
  if (flags & O_DIRECTORY) dir_fds_.insert(fd);
  if (create && !existed) {
    files_[p] = {0, -1};
    undo_[parent_of(p)].push_back({true, p, {}});
  } else if ((flags & O_TRUNC) && existed) {
    files_[p] = {0, -1};
  }
  return fd;
}

int FaultInjectionEnv::close(int fd) {
  {
    std::lock_guard l(mu_);
    fd_path_.erase(fd);
    dir_fds_.erase(fd);
  }
  return base_->close(fd);
}

ssize_t FaultInjectionEnv::pread(int fd, void* buf, size_t n, off_t at) { return base_->pread(fd, buf, n, at); }

ssize_t FaultInjectionEnv::pwrite(int fd, const void* buf, size_t n, off_t at) {
  std::lock_guard l(mu_);
  const std::string& p = fd_path_[fd];
  bool shorten = false;
  if (int e = fault_locked(Op::kWrite, p, &shorten); e != 0) {
    errno = e;
    return -1;
  }
  track_locked(fd, p);
  if (shorten && n > 1) n /= 2;
  return base_->pwrite(fd, buf, n, at);
}

int FaultInjectionEnv::sync(int fd, bool data_only) {
  std::lock_guard l(mu_);
  const std::string p = fd_path_[fd];
  const bool is_dir = dir_fds_.count(fd) != 0;
  if (int e = fault_locked(Op::kSync, p); e != 0) {
    // fsyncgate: the kernel drops the dirty pages and forgets the error.
    if (!is_dir) {
      track_locked(fd, p);
      FileState& f = files_[p];
      if (f.lost_from < 0) f.lost_from = f.synced;
    }
    errno = e;
    return -1;
  }
  int rc = data_only ? base_->fdatasync(fd) : base_->fsync(fd);
  if (rc != 0) return rc;
  if (is_dir) {
    undo_.erase(p);
  } else if (auto it = files_.find(p); it != files_.end()) {
    struct stat st{};
    if (base_->fstat(fd, &st) == 0) it->second.synced = static_cast<int64_t>(st.st_size);
  }
  return 0;
}

int FaultInjectionEnv::fdatasync(int fd) { return sync(fd, true); }
int FaultInjectionEnv::fsync(int fd) { return sync(fd, false); }

int FaultInjectionEnv::fallocate(int fd, int mode, off_t at, off_t len) {
  {
    std::lock_guard l(mu_);
    if (int e = fault_locked(Op::kAllocate, fd_path_[fd]); e != 0) {
      errno = e;
      return -1;
    }
  }
  return base_->fallocate(fd, mode, at, len);
}

int FaultInjectionEnv::ftruncate(int fd, off_t size) {
  std::lock_guard l(mu_);
  const std::string& p = fd_path_[fd];
  if (int e = fault_locked(Op::kTruncate, p); e != 0) {
    errno = e;
    return -1;
  }
  track_locked(fd, p);
  FileState& f = files_[p];
  f.synced = std::min<int64_t>(f.synced, size);
  if (f.lost_from > size) f.lost_from = size;
  return base_->ftruncate(fd, size);
}

int FaultInjectionEnv::fstat(int fd, struct stat* st) { return base_->fstat(fd, st); }

int FaultInjectionEnv::rename(const char* from, const char* to) {
  std::lock_guard l(mu_);
  const std::string f = from, t = to;
  if (int e = fault_locked(Op::kRename, t); e != 0) {
    errno = e;
    return -1;
  }
  auto& undo = undo_[parent_of(t)];
  if (size_of_path(t) >= 0) undo.push_back({false, t, read_all(t)});
  else undo.push_back({true, t, {}});
  int rc = base_->rename(from, to);
  if (rc != 0) {
    undo.pop_back();
    return rc;
  }
  if (auto it = files_.find(f); it != files_.end()) {
    files_[t] = it->second;
    files_.erase(f);
  } else {
    files_.erase(t);
  }
  for (auto& [fd, p] : fd_path_)
    if (p == f) p = t;
  return 0;
}

int FaultInjectionEnv::unlink(const char* path) {
  std::lock_guard l(mu_);
  if (dead_) {
    errno = EIO;
    return -1;
  }
  files_.erase(path);
  return base_->unlink(path);
}

int FaultInjectionEnv::mkdir(const char* path, mode_t mode) {
  std::lock_guard l(mu_);
  const std::string p = path;
  if (int e = fault_locked(Op::kCreate, p); e != 0) {
    errno = e;
    return -1;
  }
  int rc = base_->mkdir(path, mode);
  if (rc == 0) undo_[parent_of(p)].push_back({true, p, {}});
  return rc;
}

int FaultInjectionEnv::rmdir(const char* path) {
  std::lock_guard l(mu_);
  if (dead_) {
    errno = EIO;
    return -1;
  }
  return base_->rmdir(path);
}

void FaultInjectionEnv::crash() {
  std::lock_guard l(mu_);
  dead_ = true;
  for (const auto& [path, f] : files_) {
    int64_t keep = f.lost_from >= 0 ? std::min(f.synced, f.lost_from) : f.synced;
    int64_t size = size_of_path(path);
    if (size > keep) (void)::truncate(path.c_str(), keep);
  }
  files_.clear();
  // Newest first, so that a file created then renamed over is undone in order.
  for (auto& [dir, list] : undo_) {
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
      std::error_code ec;
      if (it->created) {
        fs::remove_all(it->path, ec);
      } else {
        int fd = ::open(it->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
          (void)::pwrite(fd, it->old.data(), it->old.size(), 0);
          ::close(fd);
        }
      }
    }
  }
  undo_.clear();
}

void FaultInjectionEnv::revive() {
  std::lock_guard l(mu_);
  dead_ = false;
  rules_.clear();
}

}  // namespace millrace::storage
