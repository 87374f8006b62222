// RecordAccumulator: the producer's per-partition queues of batches, as in Kafka.
//
//   application threads --append()--> [tp -> deque<batch>] --ready()/drain()--> sender
//
// append() adds a record to the last open batch of its partition, or opens a new one
// with memory from the BufferPool (blocking up to max.block.ms). A partition is ready
// to send when its first batch is full, has waited linger.ms, the producer is flushing
// or closing, or more than one batch is queued. drain() takes at most one batch per
// ready partition, skipping partitions that are backing off or already have
// max_in_flight batches in flight.
//
// Ordering with idempotence: a batch that comes back for retry keeps its sequence
// number and is put back in front, sorted by sequence. Such a batch is sent again
// only when nothing else of its partition is in flight, so retried batches go out
// one at a time, in sequence order, before any new batch: retries never reorder.
//
// Thread-safety: all methods may be called from any thread (one internal mutex).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "client/buffer_pool.h"
#include "client/producer_batch.h"

namespace millrace::client {

struct AccumulatorConfig {
  size_t batch_size = 16384;
  int64_t linger_ms = 5;
  size_t buffer_memory = 32 * 1024 * 1024;
  int64_t max_block_ms = 60000;
  int max_in_flight_per_partition = 5;
  int64_t retry_backoff_ms = 100;
  int64_t delivery_timeout_ms = 120000;
  // Idempotence: until a partition has one batch acknowledged, it has at most one
  // in flight. A broker takes the first sequence it sees from a producer id as the
  // start (Kafka since KIP-360), so if the first batch failed (say NOT_LEADER on a
  // new topic) while the second was accepted, the first could never be appended.
  bool first_batch_alone = false;
};

struct ReadyResult {
  std::vector<TopicPartition> ready;
  int64_t next_check_ms = 0;    // how long the sender may sleep before calling again
};

class RecordAccumulator {
 public:
  explicit RecordAccumulator(AccumulatorConfig cfg);

  enum class AppendOutcome { kAppended, kNeedsNewBatch };
  struct AppendResult {
    bool new_batch = false;     // this record opened a batch (the sticky partitioner moves on)
    bool batch_full = false;    // the batch it went into is now full: wake the sender
  };
  // Appends to the open batch of tp only; kNeedsNewBatch when that would need a new
  // batch (lets the producer ask the sticky partitioner for another partition first).
  AppendOutcome try_append(const TopicPartition& tp, PendingRecord& rec, int64_t now_ms,
                           AppendResult* out);
  // Appends, opening a batch if needed. Blocks up to max_block_ms for memory.
  Result<AppendResult> append(const TopicPartition& tp, PendingRecord rec, int64_t now_ms);

  ReadyResult ready(int64_t now_ms);
  // Takes one batch from each of these partitions that may send now; marks them in flight.
  std::vector<BatchPtr> drain(const std::vector<TopicPartition>& partitions, int64_t now_ms,
                              size_t max_request_bytes);
  // A drained batch finished (success or final failure): frees its memory.
  void complete(const BatchPtr& batch);
  // The broker acknowledged a batch of tp (first_batch_alone lifts for tp).
  void acknowledged(const TopicPartition& tp);
  // A drained batch will be retried after backoff; goes back in front, in sequence order.
  void reenqueue(const BatchPtr& batch, int64_t now_ms);
  // Queued batches older than delivery.timeout.ms; removed and returned for failing.
  std::vector<BatchPtr> expire(int64_t now_ms);
  // KIP-360 epoch bump: the producer has a new id or epoch, so every queued batch
  // forgets its sequence and encoded bytes (they carry the old id, epoch and
  // sequence) and is stamped again, in queue order, when next drained; the
  // one-batch-first rule starts again. REQUIRES: nothing in flight.
  void reset_sequences();
  // Every queued batch (close without flush / fatal errors); removed and returned.
  std::vector<BatchPtr> abort_all();
  // Every drained batch not yet completed or re-enqueued (close, after the sender
  // stopped for good); returned and forgotten. The caller completes them.
  std::vector<BatchPtr> take_in_flight();

  // Flush: begin_flush() makes every queued batch ready at once and returns a token
  // naming the batches that exist now (records appended later, to a batch that
  // already existed, go with it, as in Kafka). await_flush(token) waits until those
  // batches completed, and ends the flush: batches opened after begin_flush() (other
  // threads still sending) are not waited for, as Kafka's flush() waits only for its
  // copy of IncompleteBatches. false on timeout. Every begin_flush() needs its
  // await_flush().
  using FlushToken = uint64_t;
  FlushToken begin_flush();
  bool await_flush(FlushToken token, std::chrono::milliseconds timeout);
  // Batches of this token not yet completed (for error messages).
  size_t pending_for(FlushToken token) const;
  void close();
  bool has_undrained() const;
  size_t incomplete() const;
  int in_flight(const TopicPartition& tp) const;
  BufferPool& pool() { return pool_; }
  // One line per non-empty partition queue: sizes, in-flight count, first batch state.
  std::string debug_state() const;

 private:
  bool sendable_now(const TopicPartition& tp, const std::deque<BatchPtr>& q, int64_t now_ms) const;

  const AccumulatorConfig cfg_;
  BufferPool pool_;
  mutable std::mutex mu_;
  std::condition_variable flushed_cv_;
  std::map<TopicPartition, std::deque<BatchPtr>> queues_;   // GUARDED_BY(mu_)
  std::map<TopicPartition, int> in_flight_;                  // GUARDED_BY(mu_)
  std::unordered_set<BatchPtr> in_flight_batches_;           // GUARDED_BY(mu_)
  std::set<TopicPartition> acknowledged_;                    // GUARDED_BY(mu_)
  // Ids of the batches appended and not yet completed (ids increase with creation).
  std::set<uint64_t> incomplete_;                            // GUARDED_BY(mu_)
  uint64_t next_batch_id_ = 1;                               // GUARDED_BY(mu_)
  int flushes_ = 0;                                          // GUARDED_BY(mu_)
  bool closed_ = false;                                      // GUARDED_BY(mu_)
};

}  // namespace millrace::client
