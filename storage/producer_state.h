// Idempotent producer state: per producer id, its epoch, the last 5 batches
// (sequence range and the offsets they got) and when it last appended, as
// Kafka keeps it.
//
// producer.snapshot (written atomically, see checkpoint.h):
//   | version u8 = 2 | snapshot_offset i64 | producer_count u32 |
//   producer_count x:
//     | producer_id i64 | producer_epoch i16 | last_timestamp i64 | batch_count u8 (<= 5) |
//     batch_count x | first_seq i32 | last_seq i32 | base_offset i64 | last_offset i64 | max_timestamp i64 |
//   | crc32c u32 over every byte before it |
//   snapshot_offset: the state reflects every batch with base offset below it;
//   recovery replays the log from there. Version 1 (no last_timestamp) is
//   still read: last_timestamp is then its newest batch's max timestamp.
//
// Expiry (Kafka's producer.id.expiration.ms, LogOptions::producer_id_expiration_ms):
// remove_expired() forgets a producer whose last append is that old; the Log
// calls it before each snapshot, so snapshots drop expired ids too. Kafka
// measures from the batch's max timestamp (the client's clock under
// CreateTime); here last_timestamp is the broker's clock at the append (the
// Log's injected clock), so a producer with a skewed clock neither expires at
// once nor lingers. Batches replayed at open (after the snapshot) count as
// appended at open: never expired early. A forgotten producer is unknown: its
// next batch is accepted at any sequence, as Kafka does.
//
// Rules (check()): producer_id < 0 -> not idempotent, always appended.
//   epoch < stored epoch                  -> kInvalidProducerEpoch
//   epoch > stored epoch                  -> first_seq must be 0, else kOutOfOrderSequence
//   unknown producer                      -> any first_seq accepted
//   same (first_seq, last_seq) as one of the last 5 batches -> duplicate (original offsets)
//   first_seq != last stored seq + 1 (wrapping at INT32_MAX)  -> kOutOfOrderSequence
// Not thread-safe: guarded by the Log mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <unordered_map>
#include <vector>

#include "protocol/record/batch_header.h"
#include "storage/status.h"

namespace millrace::storage {

inline constexpr uint8_t kProducerSnapshotVersion = 2;
inline constexpr int64_t kDefaultProducerIdExpirationMs = 86400000;  // 1 day, Kafka's default
inline constexpr size_t kProducerBatchesKept = 5;

struct ProducerBatch {
  int32_t first_seq;
  int32_t last_seq;
  int64_t base_offset;
  int64_t last_offset;
  int64_t max_timestamp;
  bool operator==(const ProducerBatch&) const = default;
};

struct ProducerEntry {
  int16_t epoch = -1;
  int64_t last_timestamp = -1;        // broker clock (ms) at its last append
  std::deque<ProducerBatch> batches;  // oldest first, at most 5
  bool operator==(const ProducerEntry&) const = default;
};

struct ProducerBatchInfo {
  int64_t producer_id;
  int16_t epoch;
  int32_t first_seq;
  int32_t last_seq;
};

// The sequence last_offset_delta after first_seq, wrapping past INT32_MAX to 0
// (Kafka's DefaultRecordBatch.incrementSequence); -1 when first_seq is.
int32_t last_sequence(int32_t first_seq, int32_t last_offset_delta);
// A batch's producer fields as check()/update() take them; control batches
// count as not idempotent (producer_id -1).
ProducerBatchInfo producer_info(const record::BatchHeader& h);

struct SequenceCheck {
  Status status;
  bool duplicate = false;
  int64_t base_offset = -1;  // original offsets when duplicate
  int64_t last_offset = -1;
};

class ProducerStateManager {
 public:
  SequenceCheck check(const ProducerBatchInfo& b) const;
  // Records an appended batch; now_ms: the broker's clock at the append.
  void update(const ProducerBatchInfo& b, int64_t base_offset, int64_t last_offset, int64_t max_timestamp,
              int64_t now_ms);
  // The same rules on one producer's entry (a default entry = unknown
  // producer): Log::append checks each batch of a multi-batch append against
  // the entry as the batches before it in that append leave it.
  static SequenceCheck check_entry(const ProducerEntry& e, const ProducerBatchInfo& b);
  static void apply(ProducerEntry& e, const ProducerBatchInfo& b, int64_t base_offset, int64_t last_offset,
                    int64_t max_timestamp, int64_t now_ms);
  const ProducerEntry* find(int64_t producer_id) const {
    auto it = producers_.find(producer_id);
    return it == producers_.end() ? nullptr : &it->second;
  }
  void clear() { producers_.clear(); }
  // Forgets every producer whose last append is expiration_ms or more before
  // now_ms. Returns how many.
  size_t remove_expired(int64_t now_ms, int64_t expiration_ms);
  // Drops batches at offsets >= offset (truncation); producers left with no
  // batch keep their epoch.
  void truncate_to(int64_t offset);
  const std::unordered_map<int64_t, ProducerEntry>& producers() const { return producers_; }
  bool operator==(const ProducerStateManager&) const = default;

  std::vector<uint8_t> encode_snapshot(int64_t snapshot_offset) const;
  // Returns the state and its snapshot_offset.
  static Result<std::pair<ProducerStateManager, int64_t>> decode_snapshot(const std::vector<uint8_t>& bytes);

 private:
  std::unordered_map<int64_t, ProducerEntry> producers_;
};

}  // namespace millrace::storage
