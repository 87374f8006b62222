// list_offsets: the offsets of a set of partitions for one spec (OffsetSpec::kLatest -1,
// kEarliest -2, kMaxTimestamp -3, or a timestamp in ms), as Kafka's clients fetch them:
// metadata for their topics, then one ListOffsets request per partition leader.
// Used by Admin::list_offsets (and so group_lag) and by the consumer's
// auto.offset.reset. Runs on the cluster's io thread (Cluster::call's requirement).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "client/cluster.h"
#include "client/producer_record.h"
#include "client/result.h"

namespace millrace::client {

// The first partition error, a partition without a leader or a failed request ends
// the call with that error (no partial map).
// isolation_level 1 (read_committed): kLatest is the last stable offset, what a
// read_committed consumer can reach (Kafka's lag for transactional topics).
asio::awaitable<Result<std::map<TopicPartition, int64_t>>> list_offsets(Cluster& cluster,
                                                                         std::vector<TopicPartition> tps,
                                                                         int64_t spec, int8_t isolation_level = 0);

}  // namespace millrace::client
