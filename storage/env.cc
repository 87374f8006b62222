#include "storage/env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace millrace::storage {

namespace fs = std::filesystem;

namespace {

class PosixEnv final : public Env {
 public:
  int open(const char* path, int flags, mode_t mode) override { return ::open(path, flags, mode); }
  int close(int fd) override { return ::close(fd); }
  ssize_t pread(int fd, void* buf, size_t n, off_t at) override { return ::pread(fd, buf, n, at); }
  ssize_t pwrite(int fd, const void* buf, size_t n, off_t at) override { return ::pwrite(fd, buf, n, at); }
  int fdatasync(int fd) override { return ::fdatasync(fd); }
  int fsync(int fd) override { return ::fsync(fd); }
  int fallocate(int fd, int mode, off_t at, off_t len) override { return ::fallocate(fd, mode, at, len); }
  int ftruncate(int fd, off_t size) override { return ::ftruncate(fd, size); }
  int fstat(int fd, struct stat* st) override { return ::fstat(fd, st); }
  int rename(const char* from, const char* to) override { return ::rename(from, to); }
  int unlink(const char* path) override { return ::unlink(path); }
  int mkdir(const char* path, mode_t mode) override { return ::mkdir(path, mode); }
  int rmdir(const char* path) override { return ::rmdir(path); }
};

}  // namespace

Env* Env::posix() {
  static PosixEnv* env = new PosixEnv;  // never destroyed: Logs may close during static destruction
  return env;
}

Status Env::create_directories(const fs::path& dir) {
  if (dir.empty()) return Status::Ok();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::Ok();
  fs::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) {
    if (Status s = create_directories(parent); !s.ok()) return s;
  }
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return io_error("create " + dir.string(), errno);
  return Status::Ok();
}

Status Env::remove_file(const fs::path& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("remove " + path.string(), errno);
  return Status::Ok();
}

Status Env::remove_all(const fs::path& path) {
  std::error_code ec;
  auto st = fs::symlink_status(path, ec);
  if (ec || !fs::exists(st)) return Status::Ok();
  if (fs::is_directory(st)) {
    std::vector<fs::path> children;
    for (const auto& e : fs::directory_iterator(path, ec)) children.push_back(e.path());
    if (ec) return Status(Errc::kStorageError, "list " + path.string() + ": " + ec.message());
    for (const auto& c : children)
      if (Status s = remove_all(c); !s.ok()) return s;
    if (rmdir(path.c_str()) != 0 && errno != ENOENT) return io_error("remove " + path.string(), errno);
    return Status::Ok();
  }
  return remove_file(path);
}

Status Env::fsync_dir(const fs::path& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) return io_error("open dir " + dir.string(), errno);
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  if (rc != 0) return io_error("fsync dir " + dir.string(), e);
  return Status::Ok();
}

}  // namespace millrace::storage
