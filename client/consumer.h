// Consumer: classic consumer-group member and fetcher.
//
//   application: subscribe()/assign() -> poll() -> records, commit_sync(), seek();
//                poll() also does the group's work that touches positions:
//                auto-commit and the commit + revoke of a rebalance
//   io thread:   group coroutine (FindCoordinator, JoinGroup, SyncGroup, Heartbeat)
//                and fetch coroutine (one Fetch in flight per leader, issued ahead of
//                the application so poll() usually finds records already buffered)
//
// Commits and rebalances run inside poll(), as in Kafka's ConsumerCoordinator.poll:
// only heartbeats and the JoinGroup/SyncGroup exchange are in the background. At its
// start poll() commits (auto-commit, every auto.commit.interval.ms, asynchronously)
// the positions of the records earlier polls returned, which the application has
// finished with by calling poll() again; a crash while it processes a batch never
// commits past that batch. A rebalance's commit and revoke wait for poll() too: with
// the eager protocol the group coroutine asks poll() to commit and give up every
// partition before it sends JoinGroup; with cooperative-sticky, poll() commits and
// gives up the partitions the new assignment took away, and then the member rejoins.
// A poll() blocked waiting for records wakes up for that work. close() commits the
// positions of everything returned (the application is done with it), as Java's does.
//
// Fetched data path: the io thread reads a Fetch response into one buffer (the
// kernel's copy is the only one), finds each partition's records in it without
// copying (fetch_response_view.h), queues them per partition as FetchedRecords
// (fetched_records.h) and sends the next Fetch at once while fewer than
// kFetchesAhead responses are queued for a partition. poll() decodes the queued
// batches on the application thread, outside the lock: CRC-32C check, control
// batches skipped, values copied into the ConsumerRecords it returns. The io
// thread thus only moves bytes, and the two threads work in parallel.
//
// Positions: the fetch position (next offset to fetch, io thread) runs ahead of the
// consumed position (next offset poll() will return). Commits use the consumed
// position, so a crash re-delivers at most what poll() returned after the last
// commit. seek()/pause()/resume() drop buffered records of the partition.
// Partitions without a committed offset start per auto.offset.reset (earliest,
// latest). Threads: every public method from application threads; one poller.
//
// Close: close(timeout) commits (auto-commit on) and leaves the group within
// `timeout`, then stops the io thread; it returns within about `timeout` whatever the
// brokers do. A poll() blocked in another thread returns CLIENT_CLOSED at once. After
// close(), every call that returns a Status or Result returns CLIENT_CLOSED at once;
// state-only calls (assignment, position, pause, resume) change nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "client/cluster.h"
#include "client/consumer_record.h"
#include "client/fetched_records.h"
#include "client/producer_record.h"

namespace millrace::client {

struct ConsumerConfig {
  ClientConfig client;
  std::string group_id;                 // empty: no group (assign() only, no commits)
  std::string assignor = "range";       // "range" or "cooperative-sticky"
  bool enable_auto_commit = true;
  int64_t auto_commit_interval_ms = 5000;
  std::string auto_offset_reset = "latest";   // "earliest" | "latest" | "none"
  int32_t session_timeout_ms = 45000;
  int32_t rebalance_timeout_ms = 300000;
  int64_t heartbeat_interval_ms = 3000;
  int32_t fetch_max_wait_ms = 500;
  int32_t fetch_min_bytes = 1;
  int32_t fetch_max_bytes = 52428800;
  int32_t max_partition_fetch_bytes = 1048576;
};

class Consumer {
 public:
  explicit Consumer(ConsumerConfig cfg);
  ~Consumer();

  Status subscribe(std::vector<std::string> topics);   // REQUIRES: group_id set
  Status assign(std::vector<TopicPartition> partitions);
  std::vector<TopicPartition> assignment() const;

  // Waits up to timeout for records: at most about kMaxPollRecords (whole batches:
  // the last one may go past it). An error when the group or fetches fail fatally
  // (e.g. OFFSET_OUT_OF_RANGE with auto.offset.reset=none) or a fetched batch is
  // corrupt (CORRUPT_MESSAGE; the position stays before it, as Java's does, so
  // every poll() says so until the application seeks past it).
  Result<std::vector<ConsumerRecord>> poll(std::chrono::milliseconds timeout);

  Status commit_sync();                                              // consumed positions
  Status commit_sync(const std::map<TopicPartition, int64_t>& offsets);

  Status seek(const TopicPartition& tp, int64_t offset);
  Status seek_to_beginning(const std::vector<TopicPartition>& tps);
  Status seek_to_end(const std::vector<TopicPartition>& tps);
  Status seek_to_time(const std::vector<TopicPartition>& tps, int64_t timestamp_ms);
  std::optional<int64_t> position(const TopicPartition& tp) const;
  void pause(const std::vector<TopicPartition>& tps);
  void resume(const std::vector<TopicPartition>& tps);

  // Test hook: rounds the group coroutine has run (each at least 100 ms apart).
  uint64_t group_rounds() const { return group_rounds_.load(); }

  // Commits (auto-commit on), leaves the group, stops; bounded by timeout. The
  // commit's or leave's error, if any; CLIENT_CLOSED when already closed.
  Status close(std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
  bool closed() const { return closing_.load(); }

  static constexpr size_t kMaxPollRecords = 10000;
  // Fetch responses queued per partition (plus one in flight) before the fetcher
  // waits for poll(): with 1 MiB max.partition.fetch.bytes, ~2-3 MiB a partition.
  static constexpr size_t kFetchesAhead = 2;

 private:
  struct PartState {
    int64_t fetch_pos = -1;      // -1: needs reset/committed lookup
    int64_t consumed_pos = -1;
    bool paused = false;
    uint64_t epoch = 0;          // new on assign and seek: stale fetch results are dropped
    std::deque<FetchedRecords> fetched;   // responses not yet drained by poll()
    size_t in_poll = 0;          // responses poll() holds while it decodes outside the lock
  };

  asio::awaitable<void> group_loop();
  asio::awaitable<void> fetch_loop();
  asio::awaitable<Status> join_and_sync();
  asio::awaitable<Status> init_positions();
  asio::awaitable<Status> commit(std::map<TopicPartition, int64_t> offsets);
  asio::awaitable<Result<int32_t>> coordinator();
  asio::awaitable<void> fetch_from(int32_t leader, std::vector<TopicPartition> tps);
  void set_assignment(const std::vector<TopicPartition>& tps);
  // poll()'s share of the group's work, on the application thread: commit and drop
  // the partitions a rebalance revokes, and start the auto-commit when it is due.
  void run_group_duties();
  asio::awaitable<void> auto_commit(std::map<TopicPartition, int64_t> offsets);
  std::map<TopicPartition, int64_t> consumed_positions() const;

  ConsumerConfig cfg_;
  std::unique_ptr<Cluster> cluster_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<TopicPartition, PartState> parts_;   // GUARDED_BY(mu_)
  std::vector<std::string> topics_;             // GUARDED_BY(mu_)
  std::optional<Error> fatal_;                  // GUARDED_BY(mu_)
  bool subscribed_ = false;                     // GUARDED_BY(mu_)
  uint64_t next_epoch_ = 1;                     // GUARDED_BY(mu_)
  // A rebalance's revocation, asked for by the group coroutine and done by poll().
  std::set<TopicPartition> to_revoke_;          // GUARDED_BY(mu_)
  bool revoke_pending_ = false;                 // GUARDED_BY(mu_)
  int64_t next_auto_commit_ms_ = 0;             // the (single) poller's
  std::vector<uint8_t> poll_scratch_;           // decompression buffer of the (single) poller
  // io thread only:
  std::string member_id_;
  int32_t generation_ = -1;
  int32_t coordinator_ = -1;
  bool rejoin_ = true;
  std::set<int32_t> fetching_;                  // leaders with a Fetch in flight
  size_t fetch_round_ = 0;                      // io thread: rotates the partition order of Fetches
  std::atomic<bool> closing_{false};
  std::atomic<int> loops_{0};
  std::atomic<uint64_t> group_rounds_{0};
  std::unique_ptr<asio::steady_timer> fetch_wake_;
};

}  // namespace millrace::client
