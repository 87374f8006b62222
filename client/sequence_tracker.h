// Idempotent producer state: the producer id/epoch from InitProducerId, the next
// sequence number of each partition and the last sequence the broker acknowledged.
// A batch gets its base sequence when it is first drained and keeps it for every
// retry; sequences wrap from INT32_MAX to 0 as in Kafka. A new id or epoch (KIP-360
// epoch bump) starts every partition at sequence 0 again. Used only from the sender
// (io) thread.
#pragma once

#include <cstdint>
#include <map>

#include "client/producer_batch.h"

namespace millrace::client {

class SequenceTracker {
 public:
  void set_producer(int64_t id, int16_t epoch) {
    producer_id_ = id;
    epoch_ = epoch;
    next_.clear();
    last_acked_.clear();
  }
  bool has_producer() const { return producer_id_ >= 0; }
  int64_t producer_id() const { return producer_id_; }
  int16_t epoch() const { return epoch_; }

  // Stamps a batch that has no sequence yet; a retried batch keeps its own.
  void assign(ProducerBatch& b) {
    if (b.has_sequence()) return;
    b.base_sequence = next_[b.tp];
    b.producer_id = producer_id_;
    b.producer_epoch = epoch_;
    advance(b.tp, b.record_count());
  }
  // Moves the next sequence of tp on by count, wrapping past INT32_MAX to 0.
  void advance(const TopicPartition& tp, int32_t count) {
    int32_t& next = next_[tp];
    int64_t n = static_cast<int64_t>(next) + count;
    next = static_cast<int32_t>(n > INT32_MAX ? n - INT32_MAX - 1 : n);
  }
  int32_t next_sequence(const TopicPartition& tp) const {
    auto it = next_.find(tp);
    return it == next_.end() ? 0 : it->second;
  }
  // The batch was stamped with the current producer id and epoch.
  bool is_current(const ProducerBatch& b) const { return b.producer_id == producer_id_ && b.producer_epoch == epoch_; }
  // The broker acknowledged b (of the current epoch).
  void acknowledged(const ProducerBatch& b) {
    if (!b.has_sequence() || !is_current(b)) return;
    int64_t last = static_cast<int64_t>(b.base_sequence) + b.record_count() - 1;
    last_acked_[b.tp] = static_cast<int32_t>(last > INT32_MAX ? last - INT32_MAX - 1 : last);
  }
  // b is the batch the broker expects next: right after the last acknowledged one
  // (or the first of the epoch). An OUT_OF_ORDER_SEQUENCE for it is a real gap, one
  // for a later batch may only mean an earlier one is still being retried.
  bool is_next(const ProducerBatch& b) const {
    auto it = last_acked_.find(b.tp);
    if (it == last_acked_.end()) return true;
    return b.base_sequence == (it->second == INT32_MAX ? 0 : it->second + 1);
  }

 private:
  int64_t producer_id_ = -1;
  int16_t epoch_ = -1;
  std::map<TopicPartition, int32_t> next_;
  std::map<TopicPartition, int32_t> last_acked_;
};

}  // namespace millrace::client
