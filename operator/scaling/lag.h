// Consumer-group lag, per partition and in total, the way a scaler must count
// it (KEDA's faults in ../../../shared/OPERATOR.md are the counter-examples):
//
//   lag = end - max(committed, log start)     (end: the high watermark; the last
//                                              stable offset once transactions exist)
//   no commit: offsetResetPolicy earliest -> end - log start (records deleted by
//              retention are not lag: the consumer cannot read them),
//              latest -> 0 (the consumer would start at the end).
//
// Lag in time is the age of the oldest unconsumed record of a partition (its
// timestamp read at the consumer's position); the group's is the largest over
// its partitions, so one hot partition is never averaged away. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace millrace::op::scaling {

enum class ResetPolicy { kEarliest, kLatest };

// What a poll learned about one partition.
struct PartitionOffsets {
  std::string topic;
  int32_t partition = 0;
  int64_t log_start = 0;                          // ListOffsets earliest
  int64_t end = 0;                                // ListOffsets latest (HW, or LSO)
  std::optional<int64_t> committed;               // the group's commit, if any
  std::optional<int64_t> next_record_timestamp_ms;  // timestamp at the consumer's position, when lag > 0
};

struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t lag = 0;
  bool committed = false;
  std::optional<int64_t> lag_ms;  // age of the oldest unconsumed record
};

struct LagSummary {
  std::vector<PartitionLag> partitions;
  int64_t total = 0;
  int32_t partitions_with_lag = 0;
  std::optional<PartitionLag> hottest;  // the largest lag (ties: first)
  std::optional<int64_t> max_lag_ms;    // the oldest unconsumed record over all partitions
};

// The position a consumer of the group reads next: the commit (never below the
// log start: those records are gone), or per the reset policy.
int64_t consumer_position(const PartitionOffsets& p, ResetPolicy policy);

PartitionLag partition_lag(const PartitionOffsets& p, ResetPolicy policy, int64_t now_ms);
LagSummary summarize(const std::vector<PartitionOffsets>& parts, ResetPolicy policy, int64_t now_ms);

}  // namespace millrace::op::scaling
