// LogManager: every partition log of this broker, across several log dirs.
//
// Owns the Logs (shared_ptr: a fetch holding a Log keeps it alive while the
// partition is deleted), a small thread pool that loads partitions in parallel
// at open(), a flush executor for group commit (Log::flush_up_to), and one
// housekeeping thread that, every housekeeping_interval_ms, applies flush.ms,
// segment.ms, retention and compaction, writes checkpoints and returns the
// append buffers of idle partitions, and a tail writer thread that writes the
// append buffers (tail_writer.h) of partitions with pending bytes to the page
// cache append_linger_ms after their first pending append.
//
// Topic configs: the broker owns them (its metadata); it passes each topic's
// Kafka-named overrides here (create() and set_topic_config()), which apply at
// once to every loaded partition of the topic.
//
// Thread-safety: every call may run concurrently from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/log.h"

namespace millrace::storage {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
  std::string dir_name() const { return topic + "-" + std::to_string(partition); }
  // "<topic>-<partition>" -> TopicPartition; nullopt for other names.
  static std::optional<TopicPartition> from_dir_name(const std::string& name);
};

struct LogManagerOptions {
  std::vector<std::filesystem::path> log_dirs;
  LogConfig default_config;
  int load_threads = 4;
  int flush_threads = 1;
  int64_t housekeeping_interval_ms = 1000;
  int64_t checkpoint_interval_ms = 10000;
  bool start_housekeeping = true;
  HwPolicy hw_policy = HwPolicy::kOnAppend;
  // Append buffers: bytes per active partition (0 = write-through), in total
  // (partitions beyond it write through), and how long appended bytes may wait
  // in a buffer before they are written to the page cache (what a kill -9 of
  // the broker can lose of appends that were not flushed).
  int64_t append_buffer_bytes = 128 << 10;
  int64_t append_buffers_total_bytes = 64 << 20;
  int64_t append_linger_ms = 5;
  int64_t preallocate_bytes = 8 << 20;  // fallocate step ahead of appends
  // log.cleaner.dedupe.buffer.size: compaction's key map. Kafka splits it over
  // log.cleaner.threads; here the housekeeping thread is the only cleaner and
  // compacts one log at a time, so one pass gets all of it.
  int64_t cleaner_dedupe_buffer_bytes = 128LL << 20;
  int64_t producer_id_expiration_ms = 86400000;  // producer.id.expiration.ms
  Clock clock = system_clock_ms;
  // Every file-system call of every log goes through it (env.h); null = Env::posix().
  Env* env = nullptr;
  // Called once per log dir when it goes offline (log_dir_health.h), on the
  // thread whose write or fsync failed; must not block.
  LogDirHealth::Listener on_log_dir_offline;
  // Called when a flush moved a partition's high watermark (kOnFlush), on the
  // flushing thread; must not block.
  std::function<void(const TopicPartition&)> on_hw_moved;
  // Kafka-named overrides per topic, known at start (from the broker's metadata):
  // applied while loading, before housekeeping's first retention pass.
  std::map<std::string, std::map<std::string, std::string>> topic_configs;
};

struct PartitionInfo {
  TopicPartition tp;
  std::filesystem::path log_dir;
  int64_t size_bytes = 0;
  int segments = 0;
  Offset log_start_offset;
  Offset log_end_offset;
  Offset high_watermark;
  Offset consumer_end;  // the high watermark as consumers are told it (Log::consumer_end)
  bool offline = false;  // its log dir is offline, or it failed to load
};

struct LogDirStatus {
  std::filesystem::path dir;
  bool offline = false;
  Status error;  // why, when offline
};

struct LoadError {
  std::filesystem::path dir;
  Status status;
};

class LogManager {
 public:
  // Creates missing log dirs, loads every "<topic>-<partition>" directory in
  // parallel. A partition that fails to load (or is present in two log dirs)
  // is reported in load_errors() and stays offline: get() returns a stand-in
  // that answers kStorageError to every call (Log::offline), create() refuses
  // it, and nothing on disk is touched (never silently repaired or re-created).
  static Result<std::unique_ptr<LogManager>> open(LogManagerOptions options);
  ~LogManager();  // shutdown()

  std::shared_ptr<Log> get(const TopicPartition& tp) const;  // null when absent
  // Creates the partition in the online log dir with the fewest partitions;
  // its directory entries are fsynced before it returns (a partition that the
  // caller records as created survives a power loss).
  // kAlreadyExists when present (offline included); kStorageError when every
  // log dir is offline; overrides are the topic's Kafka configs.
  Result<std::shared_ptr<Log>> create(const TopicPartition& tp,
                                      const std::map<std::string, std::string>& overrides = {});
  Status remove(const TopicPartition& tp);
  // Registers `tp` as offline (an offline stand-in, Log::offline) without
  // touching the disk: the broker's metadata lists a partition the log dirs do
  // not have. kAlreadyExists when present.
  Status add_offline(const TopicPartition& tp, const Status& why);

  Status set_topic_config(const std::string& topic, const std::map<std::string, std::string>& overrides);
  LogConfig topic_config(const std::string& topic) const;

  std::vector<PartitionInfo> partitions() const;
  // Memory held by append buffers now (for metrics); <= append_buffers_total_bytes.
  int64_t append_buffer_bytes_in_use() const;
  std::vector<LoadError> load_errors() const;
  // Each log dir and whether it is offline (metrics, /readyz).
  std::vector<LogDirStatus> log_dir_status() const;
  const std::vector<std::filesystem::path>& log_dirs() const { return options_.log_dirs; }

  // Runs `job` on the flush pool, the broker's threads that may block on the
  // disk (the server's page-cache warm-up before sendfile). Not after shutdown().
  void post_blocking(std::function<void()> job);

  // One housekeeping pass now (tests; the thread calls the same).
  void run_housekeeping();
  // Stops threads, closes every log (flush + checkpoints + clean marker).
  Status shutdown();

 private:
  struct Impl;
  explicit LogManager(LogManagerOptions options);
  LogOptions log_options(const LogConfig& config, const std::filesystem::path& log_dir, const TopicPartition& tp) const;
  LogManagerOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace millrace::storage
