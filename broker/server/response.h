// What a request handler hands back to the connection.
//
// A response frame on the wire is: int32 size | bytes with file splices.
// `bytes` holds the response header and body as encoded, WITHOUT the size
// prefix; each FileSplice inserts `length` bytes of the file `fd` starting at
// `position` before bytes[at] (splices sorted by `at`). The connection sends
// bytes with write() and splices with ::sendfile, so fetched record batches
// go from the page cache to the socket without a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace millrace::broker {

struct FileSplice {
  size_t at = 0;
  int fd = -1;
  int64_t position = 0;
  int32_t length = 0;
  std::shared_ptr<const void> keep_alive;  // holds the fd open until sent
};

struct Response {
  enum class Action { kSend, kNoResponse, kClose };
  Action action = Action::kSend;
  std::vector<uint8_t> bytes;
  std::vector<FileSplice> splices;

  size_t wire_size() const {
    size_t n = bytes.size();
    for (const auto& s : splices) n += static_cast<size_t>(s.length);
    return n;
  }
  static Response close() { Response r; r.action = Action::kClose; return r; }
  static Response none() { Response r; r.action = Action::kNoResponse; return r; }
};

}  // namespace millrace::broker
