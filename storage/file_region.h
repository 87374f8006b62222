// A byte range of an open segment file, handed to the server for sendfile().
//
// FileHandle owns one file descriptor and closes it when the last shared_ptr
// goes. A FileRegion holds such a shared_ptr, so a segment deleted by retention
// or replaced by compaction while a fetch is being sent stays readable (the
// file is unlinked, the descriptor still works) until the region is dropped.
// Thread-safety: a FileRegion is an immutable value; pread/sendfile on its fd
// from any thread is safe (they do not move the file offset).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace millrace::storage {

class Env;

class FileHandle {
 public:
  // `env` (null: Env::posix()) closes the descriptor and serves every call on it.
  FileHandle(int fd, std::string path, Env* env = nullptr);
  ~FileHandle();
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  Env& env() const { return *env_; }

 private:
  int fd_;
  std::string path_;
  Env* env_;
};

// What Log::read may put in one region (log.h).
enum class ReadFilter : uint8_t { kAll, kNoRaftControl };

struct FileRegion {
  std::shared_ptr<const FileHandle> file;  // null when length == 0
  int64_t position = 0;                    // byte position in the file
  int64_t length = 0;                      // whole record batches, 0 = nothing to send
  int64_t first_offset = -1;               // base offset of the first batch in the region
  int64_t last_offset = -1;                // last offset of the last batch in the region
  bool raft_control = false;               // ReadFilter::kNoRaftControl: one Raft control batch

  bool empty() const { return length == 0; }
  int fd() const { return file ? file->fd() : -1; }
};

}  // namespace millrace::storage
