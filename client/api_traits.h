// Which response type answers which request, and the version range this client
// speaks for each API. Caps keep the client on shapes it handles (e.g. Fetch by
// topic name up to v12, FindCoordinator with a single key up to v3); the lower
// bounds are Kafka 4.x's minimums.
#pragma once

#include <cstdint>

#include "protocol/generated/describe_log_dirs_request.h"
#include "protocol/generated/describe_quorum_request.h"
#include "protocol/generated/describe_quorum_response.h"
#include "protocol/generated/describe_log_dirs_response.h"
#include "protocol/generated/produce_request.h"
#include "protocol/generated/produce_response.h"
#include "protocol/generated/fetch_request.h"
#include "protocol/generated/fetch_response.h"
#include "protocol/generated/list_offsets_request.h"
#include "protocol/generated/list_offsets_response.h"
#include "protocol/generated/metadata_request.h"
#include "protocol/generated/metadata_response.h"
#include "protocol/generated/offset_commit_request.h"
#include "protocol/generated/offset_commit_response.h"
#include "protocol/generated/offset_fetch_request.h"
#include "protocol/generated/offset_fetch_response.h"
#include "protocol/generated/find_coordinator_request.h"
#include "protocol/generated/find_coordinator_response.h"
#include "protocol/generated/join_group_request.h"
#include "protocol/generated/join_group_response.h"
#include "protocol/generated/heartbeat_request.h"
#include "protocol/generated/heartbeat_response.h"
#include "protocol/generated/leave_group_request.h"
#include "protocol/generated/leave_group_response.h"
#include "protocol/generated/sync_group_request.h"
#include "protocol/generated/sync_group_response.h"
#include "protocol/generated/describe_groups_request.h"
#include "protocol/generated/describe_groups_response.h"
#include "protocol/generated/list_groups_request.h"
#include "protocol/generated/list_groups_response.h"
#include "protocol/generated/create_topics_request.h"
#include "protocol/generated/create_topics_response.h"
#include "protocol/generated/delete_topics_request.h"
#include "protocol/generated/delete_topics_response.h"
#include "protocol/generated/delete_records_request.h"
#include "protocol/generated/delete_records_response.h"
#include "protocol/generated/init_producer_id_request.h"
#include "protocol/generated/init_producer_id_response.h"
#include "protocol/generated/describe_configs_request.h"
#include "protocol/generated/describe_configs_response.h"
#include "protocol/generated/alter_configs_request.h"
#include "protocol/generated/alter_configs_response.h"
#include "protocol/generated/incremental_alter_configs_request.h"
#include "protocol/generated/incremental_alter_configs_response.h"
#include "protocol/generated/create_partitions_request.h"
#include "protocol/generated/create_partitions_response.h"
#include "protocol/generated/delete_groups_request.h"
#include "protocol/generated/delete_groups_response.h"
#include "protocol/generated/elect_leaders_request.h"
#include "protocol/generated/elect_leaders_response.h"
#include "protocol/generated/alter_partition_reassignments_request.h"
#include "protocol/generated/alter_partition_reassignments_response.h"
#include "protocol/generated/list_partition_reassignments_request.h"
#include "protocol/generated/list_partition_reassignments_response.h"
#include "protocol/generated/offset_delete_request.h"
#include "protocol/generated/offset_delete_response.h"
#include "protocol/generated/describe_cluster_request.h"
#include "protocol/generated/describe_cluster_response.h"

namespace millrace::client {

template <typename Req>
struct ApiTraits;

template <> struct ApiTraits<proto::ProduceRequest> {
  using Response = proto::ProduceResponse;
  static constexpr int16_t kMin = 3, kMax = 9;
  static constexpr const char* kName = "Produce";
};
template <> struct ApiTraits<proto::FetchRequest> {
  using Response = proto::FetchResponse;
  static constexpr int16_t kMin = 4, kMax = 12;
  static constexpr const char* kName = "Fetch";
};
template <> struct ApiTraits<proto::ListOffsetsRequest> {
  using Response = proto::ListOffsetsResponse;
  static constexpr int16_t kMin = 1, kMax = 7;
  static constexpr const char* kName = "ListOffsets";
};
template <> struct ApiTraits<proto::MetadataRequest> {
  using Response = proto::MetadataResponse;
  static constexpr int16_t kMin = 1, kMax = 12;
  static constexpr const char* kName = "Metadata";
};
template <> struct ApiTraits<proto::OffsetCommitRequest> {
  using Response = proto::OffsetCommitResponse;
  static constexpr int16_t kMin = 2, kMax = 8;
  static constexpr const char* kName = "OffsetCommit";
};
template <> struct ApiTraits<proto::OffsetFetchRequest> {
  using Response = proto::OffsetFetchResponse;
  static constexpr int16_t kMin = 1, kMax = 7;
  static constexpr const char* kName = "OffsetFetch";
};
template <> struct ApiTraits<proto::FindCoordinatorRequest> {
  using Response = proto::FindCoordinatorResponse;
  static constexpr int16_t kMin = 0, kMax = 3;
  static constexpr const char* kName = "FindCoordinator";
};
template <> struct ApiTraits<proto::JoinGroupRequest> {
  using Response = proto::JoinGroupResponse;
  static constexpr int16_t kMin = 0, kMax = 7;
  static constexpr const char* kName = "JoinGroup";
};
template <> struct ApiTraits<proto::HeartbeatRequest> {
  using Response = proto::HeartbeatResponse;
  static constexpr int16_t kMin = 0, kMax = 4;
  static constexpr const char* kName = "Heartbeat";
};
template <> struct ApiTraits<proto::LeaveGroupRequest> {
  using Response = proto::LeaveGroupResponse;
  static constexpr int16_t kMin = 0, kMax = 4;
  static constexpr const char* kName = "LeaveGroup";
};
template <> struct ApiTraits<proto::SyncGroupRequest> {
  using Response = proto::SyncGroupResponse;
  static constexpr int16_t kMin = 0, kMax = 5;
  static constexpr const char* kName = "SyncGroup";
};
template <> struct ApiTraits<proto::DescribeGroupsRequest> {
  using Response = proto::DescribeGroupsResponse;
  static constexpr int16_t kMin = 0, kMax = 5;
  static constexpr const char* kName = "DescribeGroups";
};
template <> struct ApiTraits<proto::ListGroupsRequest> {
  using Response = proto::ListGroupsResponse;
  static constexpr int16_t kMin = 0, kMax = 4;
  static constexpr const char* kName = "ListGroups";
};
template <> struct ApiTraits<proto::CreateTopicsRequest> {
  using Response = proto::CreateTopicsResponse;
  static constexpr int16_t kMin = 2, kMax = 7;
  static constexpr const char* kName = "CreateTopics";
};
template <> struct ApiTraits<proto::DeleteTopicsRequest> {
  using Response = proto::DeleteTopicsResponse;
  static constexpr int16_t kMin = 1, kMax = 5;
  static constexpr const char* kName = "DeleteTopics";
};
template <> struct ApiTraits<proto::DeleteRecordsRequest> {
  using Response = proto::DeleteRecordsResponse;
  static constexpr int16_t kMin = 0, kMax = 2;
  static constexpr const char* kName = "DeleteRecords";
};
template <> struct ApiTraits<proto::InitProducerIdRequest> {
  using Response = proto::InitProducerIdResponse;
  static constexpr int16_t kMin = 0, kMax = 4;
  static constexpr const char* kName = "InitProducerId";
};
template <> struct ApiTraits<proto::DescribeConfigsRequest> {
  using Response = proto::DescribeConfigsResponse;
  static constexpr int16_t kMin = 1, kMax = 4;
  static constexpr const char* kName = "DescribeConfigs";
};
template <> struct ApiTraits<proto::AlterConfigsRequest> {
  using Response = proto::AlterConfigsResponse;
  static constexpr int16_t kMin = 0, kMax = 2;
  static constexpr const char* kName = "AlterConfigs";
};
template <> struct ApiTraits<proto::IncrementalAlterConfigsRequest> {
  using Response = proto::IncrementalAlterConfigsResponse;
  static constexpr int16_t kMin = 0, kMax = 1;
  static constexpr const char* kName = "IncrementalAlterConfigs";
};
template <> struct ApiTraits<proto::CreatePartitionsRequest> {
  using Response = proto::CreatePartitionsResponse;
  static constexpr int16_t kMin = 0, kMax = 3;
  static constexpr const char* kName = "CreatePartitions";
};
template <> struct ApiTraits<proto::DeleteGroupsRequest> {
  using Response = proto::DeleteGroupsResponse;
  static constexpr int16_t kMin = 0, kMax = 2;
  static constexpr const char* kName = "DeleteGroups";
};
template <> struct ApiTraits<proto::ElectLeadersRequest> {
  using Response = proto::ElectLeadersResponse;
  static constexpr int16_t kMin = 0, kMax = 2;
  static constexpr const char* kName = "ElectLeaders";
};
template <> struct ApiTraits<proto::DescribeQuorumRequest> {
  using Response = proto::DescribeQuorumResponse;
  static constexpr int16_t kMin = 0, kMax = 2;
  static constexpr const char* kName = "DescribeQuorum";
};
template <> struct ApiTraits<proto::AlterPartitionReassignmentsRequest> {
  using Response = proto::AlterPartitionReassignmentsResponse;
  static constexpr int16_t kMin = 0, kMax = 0;
  static constexpr const char* kName = "AlterPartitionReassignments";
};
template <> struct ApiTraits<proto::ListPartitionReassignmentsRequest> {
  using Response = proto::ListPartitionReassignmentsResponse;
  static constexpr int16_t kMin = 0, kMax = 0;
  static constexpr const char* kName = "ListPartitionReassignments";
};
template <> struct ApiTraits<proto::OffsetDeleteRequest> {
  using Response = proto::OffsetDeleteResponse;
  static constexpr int16_t kMin = 0, kMax = 0;
  static constexpr const char* kName = "OffsetDelete";
};
template <> struct ApiTraits<proto::DescribeLogDirsRequest> {
  using Response = proto::DescribeLogDirsResponse;
  static constexpr int16_t kMin = 1, kMax = 4;
  static constexpr const char* kName = "DescribeLogDirs";
};
template <> struct ApiTraits<proto::DescribeClusterRequest> {
  using Response = proto::DescribeClusterResponse;
  static constexpr int16_t kMin = 0, kMax = 1;
  static constexpr const char* kName = "DescribeCluster";
};

}  // namespace millrace::client
