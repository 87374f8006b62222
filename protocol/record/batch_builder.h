// Builds v2 record batches (layouts: batch_header.h, record.h): records are
// appended one by one, then finish() writes header + (compressed) records and the
// CRC-32C. Used by the Millrace client's producer, by tests and by the broker
// when it must re-compress (topic compression.type) or write control batches.
// Not thread-safe. Never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocol/record/batch_header.h"
#include "protocol/record/record.h"

namespace millrace::record {

struct BatchOptions {
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;  // producers write -1; the leader stamps it
  int64_t producer_id = -1;             // -1: not idempotent
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  bool control = false;
  Compression compression = Compression::kNone;
  int compression_level = 0;            // 0: the codec's default (see codec.h)
  // kLogAppendTime sets attribute bit 3; max_timestamp is then the largest
  // record timestamp, so pass the append time as the records' timestamp.
  TimestampType timestamp_type = TimestampType::kCreateTime;
};

class BatchBuilder {
 public:
  explicit BatchBuilder(const BatchOptions& options) : options_(options) {}

  // Adds a record with offset_delta = number of records so far and
  // timestamp_delta = timestamp - first record's timestamp.
  void append(int64_t timestamp, std::optional<Bytes> key, std::optional<Bytes> value,
              std::span<const Header> headers = {});

  int32_t record_count() const { return count_; }
  size_t uncompressed_records_size() const { return records_.size(); }
  bool empty() const { return count_ == 0; }

  // Appends the whole batch to `out` and resets the builder to empty (same
  // options). kInvalid without records, or when a codec fails.
  BatchStatus finish(std::vector<uint8_t>& out);

 private:
  BatchOptions options_;
  std::vector<uint8_t> records_;  // uncompressed record bytes
  int32_t count_ = 0;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
};

}  // namespace millrace::record
