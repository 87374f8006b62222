// Env: every file-system call storage makes goes through one of these (LevelDB's
// Env), so that tests can inject faults (fault_env.h) and a "crash" that drops
// what was never synced. The default, Env::posix(), is the plain system calls.
//
// Contract: each virtual has the signature and the result convention of the
// POSIX call of the same name (-1 with errno set on failure, a short count from
// pread/pwrite). One virtual call per system call and no allocation: the hot
// path (pwrite of the append buffer, fdatasync) costs what it did before.
// Directory listing and existence checks stay on std::filesystem (read-only).
//
// Thread-safety: implementations must be callable from any thread at once.
// Lifetime: an Env must outlive every Log, LogManager and FileHandle using it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <filesystem>

#include "storage/status.h"

namespace millrace::storage {

class Env {
 public:
  virtual ~Env() = default;
  // The real system calls; never destroyed.
  static Env* posix();

  virtual int open(const char* path, int flags, mode_t mode) = 0;
  virtual int close(int fd) = 0;
  virtual ssize_t pread(int fd, void* buf, size_t n, off_t at) = 0;
  virtual ssize_t pwrite(int fd, const void* buf, size_t n, off_t at) = 0;
  virtual int fdatasync(int fd) = 0;
  virtual int fsync(int fd) = 0;
  virtual int fallocate(int fd, int mode, off_t at, off_t len) = 0;
  virtual int ftruncate(int fd, off_t size) = 0;
  virtual int fstat(int fd, struct stat* st) = 0;
  virtual int rename(const char* from, const char* to) = 0;
  virtual int unlink(const char* path) = 0;
  virtual int mkdir(const char* path, mode_t mode) = 0;
  virtual int rmdir(const char* path) = 0;

  // Helpers built on the calls above (so a fault env sees them too).
  Status create_directories(const std::filesystem::path& dir);  // mkdir -p
  Status remove_all(const std::filesystem::path& path);         // rm -r; missing is fine
  Status remove_file(const std::filesystem::path& path);        // unlink; missing is fine
  Status fsync_dir(const std::filesystem::path& dir);            // open O_DIRECTORY + fsync
};

// Never null: the given env, or Env::posix().
inline Env* env_or_posix(Env* env) { return env ? env : Env::posix(); }

}  // namespace millrace::storage
