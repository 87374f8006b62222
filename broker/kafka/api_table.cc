#include "broker/kafka/api_table.h"

#include <array>

namespace millrace::broker {

namespace {
// The BRIEF's ranges: what every client in the support table needs.
constexpr std::array kApis = {
    ApiRow{0, 0, 11, 3},   // Produce (v0-2 advertised for librdkafka's codec gate)
    ApiRow{1, 4, 17, 4},   // Fetch (v13+: topics by id)
    ApiRow{2, 1, 7, 1},    // ListOffsets
    ApiRow{3, 0, 12, 0},   // Metadata
    ApiRow{8, 2, 8, 2},    // OffsetCommit
    ApiRow{9, 1, 8, 1},    // OffsetFetch
    ApiRow{10, 0, 4, 0},   // FindCoordinator
    ApiRow{11, 0, 9, 0},   // JoinGroup
    ApiRow{12, 0, 4, 0},   // Heartbeat
    ApiRow{13, 0, 5, 0},   // LeaveGroup
    ApiRow{14, 0, 5, 0},   // SyncGroup
    ApiRow{15, 0, 5, 0},   // DescribeGroups
    ApiRow{16, 0, 4, 0},   // ListGroups
    ApiRow{18, 0, 3, 0},   // ApiVersions
    ApiRow{19, 2, 7, 2},   // CreateTopics
    ApiRow{20, 1, 6, 1},   // DeleteTopics
    ApiRow{21, 0, 2, 0},   // DeleteRecords
    ApiRow{22, 0, 4, 0},   // InitProducerId
    ApiRow{23, 2, 4, 2},   // OffsetForLeaderEpoch
    ApiRow{32, 1, 4, 1},   // DescribeConfigs
    ApiRow{33, 0, 2, 0},   // AlterConfigs
    ApiRow{35, 1, 4, 1},   // DescribeLogDirs
    ApiRow{37, 0, 3, 0},   // CreatePartitions
    ApiRow{42, 0, 2, 0},   // DeleteGroups
    ApiRow{43, 0, 2, 0},   // ElectLeaders
    ApiRow{44, 0, 1, 0},   // IncrementalAlterConfigs
    ApiRow{45, 0, 0, 0},   // AlterPartitionReassignments
    ApiRow{46, 0, 0, 0},   // ListPartitionReassignments
    ApiRow{47, 0, 0, 0},   // OffsetDelete
    ApiRow{60, 0, 1, 0},   // DescribeCluster
    ApiRow{75, 0, 0, 0},   // DescribeTopicPartitions
};
}  // namespace

std::span<const ApiRow> api_table() { return kApis; }

const ApiRow* find_api(int16_t key) {
  for (const auto& r : kApis)
    if (r.key == key) return &r;
  return nullptr;
}

}  // namespace millrace::broker
