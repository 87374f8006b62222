// Producer: Kafka's producer design in C++.
//
//   send() ──partitioner──> RecordAccumulator ──sender (io thread)──> brokers
//
// send() picks the partition (explicit, murmur2 of the key, or sticky for keyless
// records), appends to the accumulator (blocking up to max.block.ms when
// buffer.memory is full or the topic's metadata is missing) and returns. The sender
// coroutine on the client's io thread drains ready batches per leader, pipelines
// Produce requests (up to max.in.flight per partition), retries retriable errors with
// backoff until delivery.timeout.ms, and runs each record's callback with its offset
// or error. Idempotence (default on) gets a producer id with InitProducerId and
// stamps per-partition sequences, so retries neither duplicate nor reorder records.
// A sequenced batch that fails for good (expired, retries exhausted, not encodable)
// or an OUT_OF_ORDER_SEQUENCE / UNKNOWN_PRODUCER_ID that shows a real gap makes the
// sender bump the epoch (KIP-360): once the requests in flight answer, it sends
// InitProducerId with the current id and epoch, takes the id/epoch it gets, and
// every partition starts again at sequence 0, so one failure does not wedge a
// partition for the producer's lifetime.
//
// Threads: send()/flush()/close() from any application thread; callbacks run on the
// io thread. A callback that calls flush() gets an error at once; one that calls
// close() gets Kafka's close(0): queued records fail at once and nothing is waited for.
//
// Close: close(timeout) flushes for at most `timeout`, then fails whatever is still
// queued or in flight with CLIENT_CLOSED and stops the io thread; it returns within
// about `timeout`, whatever the brokers do. Every call after close() returns
// CLIENT_CLOSED at once (send, flush, drop_connections); close() again is a no-op.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "client/accumulator.h"
#include "client/cluster.h"
#include "client/partitioner.h"
#include "client/producer_record.h"
#include "client/sequence_tracker.h"

namespace millrace::client {

enum class CompressionType : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };
std::optional<CompressionType> parse_compression(std::string_view name);

struct ProducerConfig {
  ClientConfig client;
  int16_t acks = -1;                 // -1 = all, 0, 1
  bool enable_idempotence = true;    // REQUIRES acks = -1 (turned off otherwise)
  CompressionType compression = CompressionType::kNone;
  size_t batch_size = 16384;
  int64_t linger_ms = 5;
  size_t buffer_memory = 32 * 1024 * 1024;
  int64_t max_block_ms = 60000;
  int64_t delivery_timeout_ms = 120000;
  int64_t retry_backoff_ms = 100;
  int32_t retries = INT32_MAX;
  int max_in_flight = 5;             // per partition; idempotence requires <= 5
  size_t max_request_size = 1048576;
  std::shared_ptr<Partitioner> partitioner;   // default: DefaultPartitioner
};

class Producer {
 public:
  explicit Producer(ProducerConfig cfg);
  ~Producer();   // close(delivery timeout)

  // Queues a record. Errors returned here mean the record was not queued (unknown
  // topic after max.block.ms, buffer full, too large, closed); the callback then
  // is not called. Otherwise the callback runs exactly once.
  Status send(ProducerRecord record, DeliveryCallback callback = {});
  std::future<Result<RecordMetadata>> send(ProducerRecord record, std::nullptr_t);

  // Sends everything queued now and waits for it (callbacks done): ok, or
  // REQUEST_TIMED_OUT when records are still pending at the timeout, or CLIENT_CLOSED.
  Status flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(120000));
  // Flushes up to timeout, then fails what is left (CLIENT_CLOSED) and stops the
  // sender. Ok when everything queued before it was delivered, else the flush's error.
  Status close(std::chrono::milliseconds timeout = std::chrono::milliseconds(120000));
  bool closed() const { return closing_.load(); }

  // Test hook: closes every broker connection now (in-flight requests fail with
  // NETWORK_EXCEPTION and are retried).
  Status drop_connections();
  // Counters for tests and bench.
  uint64_t retried_batches() const { return retried_.load(); }
  uint64_t requests_sent() const { return requests_.load(); }
  uint64_t epoch_bumps() const { return epoch_bumps_.load(); }
  // Test hook: the next n batches fail to encode after they got their sequence
  // (as a real encode failure would), leaving a sequence gap for the epoch bump.
  void fail_next_encodes_for_test(int n) { fail_next_encodes_ = n; }

 private:
  asio::awaitable<void> sender_loop();
  asio::awaitable<void> send_batches(int32_t leader, std::shared_ptr<Connection> c, std::vector<BatchPtr> batches);
  asio::awaitable<void> ensure_producer_id();
  asio::awaitable<void> refresh_metadata();
  void handle_batch_error(const BatchPtr& b, const Error& e, int64_t now);
  void fail_batch(const BatchPtr& b, const Error& e);
  void stop_sender();
  Result<int32_t> partitions_for(const std::string& topic);
  void wake();

  ProducerConfig cfg_;
  std::shared_ptr<Partitioner> partitioner_;
  RecordAccumulator acc_;
  std::unique_ptr<Cluster> cluster_;
  SequenceTracker seq_;                                   // io thread only
  std::unique_ptr<asio::steady_timer> wake_timer_;        // io thread only
  std::mutex meta_mu_;
  std::condition_variable meta_cv_;
  std::unordered_map<std::string, int32_t> partitions_;   // GUARDED_BY(meta_mu_)
  std::set<std::string> wanted_topics_;                   // GUARDED_BY(meta_mu_)
  std::map<std::string, int> waiting_;                    // GUARDED_BY(meta_mu_): send() calls per topic
  // The last metadata request was refused for good (is_authentication_error):
  // send() returns it instead of waiting for max.block.ms.
  std::optional<Error> metadata_refused_;                 // GUARDED_BY(meta_mu_)
  std::atomic<bool> closing_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> need_metadata_{true};
  std::atomic<uint64_t> retried_{0}, requests_{0}, epoch_bumps_{0};
  std::atomic<int> fail_next_encodes_{0};
  bool bump_required_ = false;                            // io thread only: KIP-360 epoch bump due
  int inflight_requests_ = 0;                             // io thread only
  std::promise<void> sender_done_;
  std::shared_future<void> sender_done_future_;
};

}  // namespace millrace::client
