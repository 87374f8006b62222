// Per-partition log configuration, by Kafka's topic config names. A LogConfig
// is a plain value: LogManager keeps one per topic and hands a copy to each
// Log; Log::update_config() swaps it at run time (the next append/roll/
// housekeeping pass uses the new values).
//
//   Kafka name                    field                      default
//   segment.bytes                 segment_bytes              1 GiB
//   segment.ms                    segment_ms                 7 days
//   segment.index.bytes           segment_index_bytes        10 MiB (full index -> roll)
//   index.interval.bytes          index_interval_bytes       4096
//   retention.ms                  retention_ms               7 days (-1 = forever)
//   retention.bytes               retention_bytes            -1 (no size limit)
//   cleanup.policy                delete / compact           delete ("compact,delete" = both)
//   delete.retention.ms           delete_retention_ms        1 day
//   min.cleanable.dirty.ratio     min_cleanable_dirty_ratio  0.5
//   max.message.bytes             max_message_bytes          1048588
//   message.timestamp.type        log_append_time            CreateTime
//   flush.messages                flush_messages             INT64_MAX (never by count)
//   flush.ms                      flush_ms                   INT64_MAX (never by time)
//   compression.type              compression_type           "producer" (stored as sent)
//   min.insync.replicas           min_insync_replicas        1 (kept for the broker)
//   write.caching                 write_caching              false (Redpanda's name: a replicated
//                                                            partition answers acks=all once a majority
//                                                            has the batch in memory, fsync left to
//                                                            flush.messages / flush.ms)
//   leader.replication.throttled.replicas    leader_throttled_replicas    "" (see the field)
//   follower.replication.throttled.replicas  follower_throttled_replicas  ""
//
// Kafka 4.1 accepts 16 more topic configs (compression levels, tiered
// storage, compaction lags, timestamp bounds, preallocate, segment jitter,
// unclean election). Millrace accepts them, validates them by
// Kafka's rules and reports them, but does not act on them yet: they live in
// `unenforced` (see unenforced_keys() for the list with defaults).
// Error messages are Kafka's ("Unknown topic config name: X", "Invalid value V
// for configuration K: ...").
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "storage/status.h"

namespace millrace::storage {

struct LogConfig {
  int64_t segment_bytes = 1LL << 30;
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;
  int64_t segment_index_bytes = 10LL << 20;
  int32_t index_interval_bytes = 4096;
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;
  int64_t retention_bytes = -1;
  bool cleanup_delete = true;
  bool cleanup_compact = false;
  int64_t delete_retention_ms = 24LL * 3600 * 1000;
  double min_cleanable_dirty_ratio = 0.5;
  int32_t max_message_bytes = 1048588;
  bool log_append_time = false;
  int64_t flush_messages = std::numeric_limits<int64_t>::max();
  int64_t flush_ms = std::numeric_limits<int64_t>::max();
  std::string compression_type = "producer";
  int32_t min_insync_replicas = 1;
  bool write_caching = false;
  // leader/follower.replication.throttled.replicas: "" (none listed), "*" (all)
  // or "partition:broker,...": which replicas' catch-up the brokers'
  // leader/follower.replication.throttled.rate governs (read by the
  // replication layer, cluster/replication/throttle.h).
  std::string leader_throttled_replicas;
  std::string follower_throttled_replicas;
  // Overrides of keys Millrace accepts but does not act on (validated values).
  std::map<std::string, std::string> unenforced;

  // Applies Kafka-named overrides on top of *this. Unknown names are
  // kInvalidArgument (so a typo is reported, not ignored); bad values too.
  Result<LogConfig> with_overrides(const std::map<std::string, std::string>& overrides) const;
  // Kafka-named view of every field (DescribeConfigs).
  std::map<std::string, std::string> to_map() const;
  static bool is_known_name(const std::string& name);

  struct UnenforcedKey {
    const char* name;
    const char* default_value;
    const char* doc;
  };
  // The topic configs accepted for Kafka compatibility that do nothing yet.
  static const std::vector<UnenforcedKey>& unenforced_keys();
};

}  // namespace millrace::storage
