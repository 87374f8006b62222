// FaultInjectionEnv: an Env for tests (LevelDB's FaultInjectionTestEnv). It
// passes every call to the real file system and can
//   - fail chosen calls: EIO on write or fsync, ENOSPC, any errno, or shorten a
//     write (half the bytes, no error; the caller must loop);
//   - simulate a power loss with crash(): every file written through this env
//     is cut back to the size it had at its last successful fdatasync/fsync,
//     files and directories created (or renamed into place) since their parent
//     directory's last fsync disappear, and a file replaced by a rename that the
//     directory fsync did not cover gets its old content back.
// It models fsyncgate: after a failed fsync the bytes written since the last
// good one are lost for good, even when a later fsync "succeeds" (the kernel
// dropped the dirty pages), so a caller that retries into success and calls
// the data durable is caught by crash().
// After crash() every mutating call fails with EIO (the machine is gone) until
// revive(); reads still work, so a test can drop its Log and reopen it.
// Limits: unlinks are durable at once; a truncation is not undone by crash().
// Thread-safe (one mutex; meant for tests, not for speed).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "storage/env.h"

namespace millrace::storage {

class FaultInjectionEnv final : public Env {
 public:
  enum class Op : uint8_t {
    kWrite,     // pwrite (err 0: a short write)
    kSync,      // fdatasync / fsync of a file or a directory
    kAllocate,  // fallocate
    kTruncate,  // ftruncate
    kRename,
    kCreate,    // open with O_CREAT, mkdir
  };

  explicit FaultInjectionEnv(Env* base = Env::posix()) : base_(base) {}

  // Makes calls of `op` on a path containing `path_part` (empty: any) fail with
  // `err`, after `skip` matching calls went through, for `times` calls (-1: for
  // ever). Rules are checked in the order they were added.
  void inject(Op op, int err, std::string path_part = {}, int skip = 0, int times = -1);
  void clear_faults();
  // Runs `fn` once, on the calling thread and without the env's lock, just
  // before the next open with O_CREAT of a path containing `path_part`: a test
  // can run another call "in the middle" of one that writes that file.
  void before_create(std::string path_part, std::function<void()> fn);
  int64_t faults_fired() const;  // how many calls a rule failed or shortened

  void crash();   // power loss now (see the top); the env stays dead until revive()
  void revive();  // calls work again; faults are cleared
  bool dead() const;

  int open(const char* path, int flags, mode_t mode) override;
  int close(int fd) override;
  ssize_t pread(int fd, void* buf, size_t n, off_t at) override;
  ssize_t pwrite(int fd, const void* buf, size_t n, off_t at) override;
  int fdatasync(int fd) override;
  int fsync(int fd) override;
  int fallocate(int fd, int mode, off_t at, off_t len) override;
  int ftruncate(int fd, off_t size) override;
  int fstat(int fd, struct stat* st) override;
  int rename(const char* from, const char* to) override;
  int unlink(const char* path) override;
  int mkdir(const char* path, mode_t mode) override;
  int rmdir(const char* path) override;

 private:
  struct Rule {
    Op op;
    int err;
    std::string part;
    int skip;
    int times;
  };
  struct FileState {
    int64_t synced = 0;      // size at the last good sync
    int64_t lost_from = -1;  // a failed sync lost bytes from here on (-1: none)
  };
  struct Undo {
    bool created;             // true: remove `path`; false: write `old` back to it
    std::string path;
    std::vector<uint8_t> old;
  };

  // REQUIRES: mu_. The errno to fail with, 0 to go on; *shorten for a short write.
  int fault_locked(Op op, const std::string& path, bool* shorten = nullptr);
  void track_locked(int fd, const std::string& path);  // first write: remember the current size
  int sync(int fd, bool data_only);

  Env* base_;
  mutable std::mutex mu_;
  std::vector<Rule> rules_;                       // GUARDED_BY(mu_)
  int64_t fired_ = 0;                             // GUARDED_BY(mu_)
  bool dead_ = false;                             // GUARDED_BY(mu_)
  std::map<int, std::string> fd_path_;            // GUARDED_BY(mu_)
  std::set<int> dir_fds_;                         // GUARDED_BY(mu_)
  std::map<std::string, FileState> files_;        // GUARDED_BY(mu_): written since the env started
  std::map<std::string, std::vector<Undo>> undo_; // GUARDED_BY(mu_): per directory, until its fsync
  std::string hook_part_;                         // GUARDED_BY(mu_)
  std::function<void()> hook_;                    // GUARDED_BY(mu_)
};

}  // namespace millrace::storage
