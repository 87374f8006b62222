// One batch of records for one partition, on its way from the accumulator to a broker.
//
// Owned by the RecordAccumulator while queued and by the sender while in flight
// (shared_ptr, handed between threads under the accumulator's lock). Once drained,
// the batch is encoded once (record batch v2) and the same bytes — with the same
// base sequence — are resent on every retry, so the broker can recognise duplicates.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "client/producer_record.h"

namespace millrace::client {

struct PendingRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<Header> headers;
  int64_t timestamp_ms = 0;
  DeliveryCallback callback;
};

// Upper bound of one record's encoded size inside a v2 batch: length, attributes,
// timestamp delta, offset delta, key/value lengths and header count are varints of
// at most 5 (10 for the timestamp) bytes each. For limits checked before the record
// has a place in a batch (max.request.size, buffer reservations).
size_t estimate_record_size(const PendingRecord& r);
// The exact encoded size of the record at this offset delta and timestamp delta in
// its batch (protocol/record/record.h: varint length, attributes, varlong timestamp
// delta, varint offset delta, key, value, headers). Batches fill to batch.size by
// these, as Kafka's do; the upper bound above wastes a fifth of a batch of 100-byte
// records.
size_t encoded_record_size(const PendingRecord& r, int32_t offset_delta, int64_t timestamp_delta);
inline constexpr size_t kBatchOverhead = 61;  // record batch v2 header

struct ProducerBatch {
  TopicPartition tp;
  uint64_t id = 0;                      // the accumulator's, in creation order (flush snapshots)
  std::vector<PendingRecord> records;
  size_t size_bytes = kBatchOverhead;   // exact encoded size, before compression
  int64_t first_timestamp_ms = 0;       // the batch's base timestamp (its first record's)
  size_t reserved_bytes = 0;            // taken from the buffer pool
  int64_t created_ms = 0;
  int64_t retry_after_ms = 0;           // backoff: not drained before this time
  int attempts = 0;
  bool full = false;                    // no more appends
  // Idempotence: set on first drain, kept across retries.
  int32_t base_sequence = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  std::vector<uint8_t> encoded;          // v2 batch bytes, built on first drain

  bool has_sequence() const { return base_sequence >= 0; }
  int32_t record_count() const { return static_cast<int32_t>(records.size()); }
  // Runs every record's callback: offsets base_offset + i, or the error for all.
  void complete(int64_t base_offset, int64_t log_append_time_ms, const Error& error);
};

using BatchPtr = std::shared_ptr<ProducerBatch>;

}  // namespace millrace::client
