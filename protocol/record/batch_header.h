// Kafka record batch v2 header (magic 2): 61 bytes, big-endian, then the records.
//
//  offset size field                    notes
//  ------ ---- ------------------------ ------------------------------------------
//       0    8 base_offset              first offset; stamped by the leader
//       8    4 batch_length             bytes after this field: total = 12 + length
//      12    4 partition_leader_epoch   stamped by the leader; NOT under the CRC
//      16    1 magic                    2 (0 and 1 are the old message formats)
//      17    4 crc                      CRC-32C of bytes [21, end): attributes..end
//      21    2 attributes               bits 0-2 codec (0 none, 1 gzip, 2 snappy,
//                                       3 lz4, 4 zstd), bit 3 LogAppendTime,
//                                       bit 4 transactional, bit 5 control
//      23    4 last_offset_delta        last offset - base_offset
//      27    8 base_timestamp
//      35    8 max_timestamp            LogAppendTime batches: the append time
//      43    8 producer_id              -1 when not idempotent
//      51    2 producer_epoch
//      53    4 base_sequence            -1 when not idempotent
//      57    4 record_count
//      61    . records                  compressed as a whole with the codec;
//                                       layout of one record in record.h
//
// The legacy formats (magic 0/1) also keep their magic byte at offset 16, which is
// how parse_batch_header() can refuse them before knowing their length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace millrace::record {

inline constexpr size_t kBatchHeaderSize = 61;
inline constexpr size_t kBatchLengthOffset = 8, kLeaderEpochOffset = 12, kMagicOffset = 16,
                        kCrcOffset = 17, kAttributesOffset = 21;
inline constexpr size_t kLastOffsetDeltaOffset = 23, kBaseTimestampOffset = 27,
                        kMaxTimestampOffset = 35, kProducerIdOffset = 43,
                        kProducerEpochOffset = 51, kBaseSequenceOffset = 53,
                        kRecordCountOffset = 57;
// Bytes counted by batch_length that precede the records (61 - 12).
inline constexpr int32_t kMinBatchLength = static_cast<int32_t>(kBatchHeaderSize) - 12;
inline constexpr int8_t kMagicV2 = 2;

inline constexpr int16_t kCompressionMask = 0x07;
inline constexpr int16_t kTimestampTypeBit = 0x08;
inline constexpr int16_t kTransactionalBit = 0x10;
inline constexpr int16_t kControlBit = 0x20;

// Two's-complement addition without signed-overflow UB: hostile headers may
// carry any base offset or timestamp, and Kafka (Java) wraps the same way.
constexpr int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

enum class Compression : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };
enum class TimestampType : uint8_t { kCreateTime = 0, kLogAppendTime = 1 };

struct BatchHeader {
  int64_t base_offset;
  int32_t batch_length;
  int32_t partition_leader_epoch;
  int8_t magic;
  uint32_t crc;
  int16_t attributes;
  int32_t last_offset_delta;
  int64_t base_timestamp;
  int64_t max_timestamp;
  int64_t producer_id;
  int16_t producer_epoch;
  int32_t base_sequence;
  int32_t record_count;

  // Codec bits as stored; values 5..7 come back as-is (the reader refuses them).
  Compression compression() const { return static_cast<Compression>(attributes & kCompressionMask); }
  TimestampType timestamp_type() const {
    return (attributes & kTimestampTypeBit) ? TimestampType::kLogAppendTime : TimestampType::kCreateTime;
  }
  bool is_transactional() const { return (attributes & kTransactionalBit) != 0; }
  bool is_control() const { return (attributes & kControlBit) != 0; }
  int64_t last_offset() const { return wrapping_add(base_offset, last_offset_delta); }
  size_t total_size() const { return 12 + static_cast<size_t>(batch_length); }  // bytes on the wire/disk
};

enum class BatchError {
  kOk,
  kTruncated,         // need more bytes
  kUnsupportedMagic,  // magic 0/1 (old message formats)
  kInvalid,           // bad length, counts, varints, codec, unknown magic
  kCorrupt,           // CRC mismatch, or a codec's stream is damaged
};
const char* to_string(BatchError e);

// A BatchError with a fixed human-readable reason ("record 3: bad key varint").
// `detail` always points to a string literal; never null.
struct BatchStatus {
  BatchError error = BatchError::kOk;
  const char* detail = "";
  bool ok() const { return error == BatchError::kOk; }
};

struct HeaderResult {
  BatchError error;
  BatchHeader header;  // meaningful only when error == kOk
};

// Reads the 61-byte header at bytes[0]. Order of checks:
//   fewer than 17 bytes                        -> kTruncated
//   magic 0 or 1                               -> kUnsupportedMagic
//   any other magic than 2                     -> kInvalid
//   fewer than 61 bytes                        -> kTruncated
//   batch_length < 49, record_count < 0,
//   last_offset_delta < 0                      -> kInvalid
// Does not look past the header and does not check the CRC.
HeaderResult parse_batch_header(std::span<const uint8_t> bytes);

// parse_batch_header(), then kTruncated when fewer than total_size() bytes are
// present, then the CRC over [21, total_size()) -> kCorrupt on mismatch. Only the
// batch that starts at whole_batch[0] is checked; later bytes are not read, so a
// caller may pass a view that holds several batches.
BatchError validate_batch(std::span<const uint8_t> whole_batch);

// In-place stamps used by a leader on append. REQUIRES: batch.size() >= 61.
void set_base_offset(std::span<uint8_t> batch, int64_t base_offset);       // not covered by CRC
void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch);  // not covered by CRC
// Sets attribute bit 3 (LogAppendTime) and max_timestamp = ts, then recomputes the
// CRC over the whole batch. base_timestamp is left as the producer wrote it, as
// Kafka does: readers of a LogAppendTime batch give every record max_timestamp.
// REQUIRES: batch.size() >= total_size() of its header.
void set_max_timestamp_log_append(std::span<uint8_t> batch, int64_t ts);

// Recomputes and stores the CRC of a whole batch (after editing covered fields).
void update_crc(std::span<uint8_t> batch);
uint32_t compute_crc(std::span<const uint8_t> whole_batch);  // over [21, total_size)

}  // namespace millrace::record
