// The `records` field type of Kafka messages (Produce requests, Fetch
// responses): opaque record-batch bytes, nullable.
//
//   non-flexible:  int32 length (-1 = null), then `length` bytes
//   flexible:      uvarint (length + 1) (0 = null), then `length` bytes
//
// A Records either owns its bytes or, on the send side only, points at a
// region of an open file (`file`): encoding writes the length prefix and
// records a splice point in the wire::Writer instead of copying the bytes, so
// the server can sendfile() the region between buffer pieces. Decoded Records
// always land in `bytes`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace millrace::proto {

struct FileRegion {
  int fd = -1;            // not owned; the caller keeps it open until sent
  int64_t position = 0;   // byte offset in the file
  int32_t length = 0;     // bytes to send
  bool operator==(const FileRegion&) const = default;
};

struct Records {
  bool is_null = true;
  std::vector<uint8_t> bytes;
  std::optional<FileRegion> file;  // when set, replaces `bytes` on encode

  // Encoded length (without the length prefix).
  size_t size() const { return file ? static_cast<size_t>(file->length) : bytes.size(); }
  bool operator==(const Records&) const = default;
};

}  // namespace millrace::proto
