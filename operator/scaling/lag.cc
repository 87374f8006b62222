#include "operator/scaling/lag.h"

#include <algorithm>

namespace millrace::op::scaling {

int64_t consumer_position(const PartitionOffsets& p, ResetPolicy policy) {
  if (p.committed) return std::max(*p.committed, p.log_start);
  return policy == ResetPolicy::kEarliest ? p.log_start : p.end;
}

PartitionLag partition_lag(const PartitionOffsets& p, ResetPolicy policy, int64_t now_ms) {
  PartitionLag out{p.topic, p.partition, 0, p.committed.has_value(), std::nullopt};
  out.lag = std::max<int64_t>(0, p.end - consumer_position(p, policy));
  if (out.lag > 0 && p.next_record_timestamp_ms) out.lag_ms = std::max<int64_t>(0, now_ms - *p.next_record_timestamp_ms);
  if (out.lag == 0) out.lag_ms = 0;
  return out;
}

LagSummary summarize(const std::vector<PartitionOffsets>& parts, ResetPolicy policy, int64_t now_ms) {
  LagSummary s;
  for (const auto& p : parts) {
    auto l = partition_lag(p, policy, now_ms);
    s.total += l.lag;
    if (l.lag > 0) ++s.partitions_with_lag;
    if (!s.hottest || l.lag > s.hottest->lag) s.hottest = l;
    if (l.lag_ms) s.max_lag_ms = std::max(s.max_lag_ms.value_or(0), *l.lag_ms);
    s.partitions.push_back(std::move(l));
  }
  return s;
}

}  // namespace millrace::op::scaling
