// One record inside a v2 batch (after decompression), all lengths zigzag varints:
//
//   length            varint   bytes of the record after this field
//   attributes        int8     unused, 0
//   timestamp_delta   varlong  timestamp - batch base_timestamp
//   offset_delta      varint   offset - batch base_offset
//   key_length        varint   -1 = null key
//   key               bytes
//   value_length      varint   -1 = null value
//   value             bytes
//   header_count      varint
//   headers[]         header_key_length varint (>= 0), header_key (UTF-8),
//                     header_value_length varint (-1 = null), header_value
//
// Control batches (attribute bit 5) hold control records: key = version int16 (0),
// type int16 (0 abort, 1 commit); value of abort/commit = version int16 (0),
// coordinator_epoch int32. See control_record.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/record/batch_header.h"

namespace millrace::record {

using Bytes = std::span<const uint8_t>;

inline Bytes as_bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
inline std::string_view as_string(Bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

struct Header {
  std::string_view key;
  std::optional<Bytes> value;  // nullopt = null value
};

// Views into the batch or the reader's scratch buffer: valid while those are.
struct Record {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<Bytes> key;    // nullopt = null key
  std::optional<Bytes> value;  // nullopt = null value (a tombstone)
  std::vector<Header> headers;
};

inline int64_t record_offset(const BatchHeader& h, const Record& r) { return wrapping_add(h.base_offset, r.offset_delta); }

// What a consumer sees: LogAppendTime batches give every record max_timestamp.
inline int64_t record_timestamp(const BatchHeader& h, const Record& r) {
  return h.timestamp_type() == TimestampType::kLogAppendTime ? h.max_timestamp
                                                             : wrapping_add(h.base_timestamp, r.timestamp_delta);
}

}  // namespace millrace::record
