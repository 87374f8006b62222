// One handler per Kafka API, one file each in this folder. Every handler
// reads the same way: validate the decoded request, delegate to the domain
// (storage, TopicRegistry, GroupCoordinator), fill the response. The
// dispatcher (broker/kafka/dispatcher.cc) finds a handler by overload on its
// request type; versions served are in broker/kafka/api_table.cc.
#pragma once

#include <utility>
#include <boost/asio/awaitable.hpp>

#include "broker/kafka/request_context.h"
#include "broker/kafka/staged.h"
#include "protocol/generated/messages.h"

namespace millrace::broker {

template <typename T>
using Task = boost::asio::awaitable<T>;

Task<proto::ApiVersionsResponse> handle(RequestContext& ctx, proto::ApiVersionsRequest& req);
Task<proto::MetadataResponse> handle(RequestContext& ctx, proto::MetadataRequest& req);
// Two stages (kafka/staged.h): the connection pipelines produces.
Task<Staged<proto::ProduceResponse>> handle(RequestContext& ctx, proto::ProduceRequest& req);
Task<proto::FetchResponse> handle(RequestContext& ctx, proto::FetchRequest& req);
Task<proto::ListOffsetsResponse> handle(RequestContext& ctx, proto::ListOffsetsRequest& req);
Task<proto::InitProducerIdResponse> handle(RequestContext& ctx, proto::InitProducerIdRequest& req);
Task<proto::FindCoordinatorResponse> handle(RequestContext& ctx, proto::FindCoordinatorRequest& req);
Task<proto::JoinGroupResponse> handle(RequestContext& ctx, proto::JoinGroupRequest& req);
Task<proto::SyncGroupResponse> handle(RequestContext& ctx, proto::SyncGroupRequest& req);
Task<proto::HeartbeatResponse> handle(RequestContext& ctx, proto::HeartbeatRequest& req);
Task<proto::LeaveGroupResponse> handle(RequestContext& ctx, proto::LeaveGroupRequest& req);
Task<proto::OffsetCommitResponse> handle(RequestContext& ctx, proto::OffsetCommitRequest& req);
Task<proto::OffsetFetchResponse> handle(RequestContext& ctx, proto::OffsetFetchRequest& req);
Task<proto::OffsetDeleteResponse> handle(RequestContext& ctx, proto::OffsetDeleteRequest& req);
Task<proto::DescribeGroupsResponse> handle(RequestContext& ctx, proto::DescribeGroupsRequest& req);
Task<proto::ListGroupsResponse> handle(RequestContext& ctx, proto::ListGroupsRequest& req);
Task<proto::DeleteGroupsResponse> handle(RequestContext& ctx, proto::DeleteGroupsRequest& req);
Task<proto::CreateTopicsResponse> handle(RequestContext& ctx, proto::CreateTopicsRequest& req);
Task<proto::DeleteTopicsResponse> handle(RequestContext& ctx, proto::DeleteTopicsRequest& req);
Task<proto::CreatePartitionsResponse> handle(RequestContext& ctx, proto::CreatePartitionsRequest& req);
Task<proto::DescribeConfigsResponse> handle(RequestContext& ctx, proto::DescribeConfigsRequest& req);
Task<proto::AlterConfigsResponse> handle(RequestContext& ctx, proto::AlterConfigsRequest& req);
Task<proto::IncrementalAlterConfigsResponse> handle(RequestContext& ctx, proto::IncrementalAlterConfigsRequest& req);
Task<proto::DeleteRecordsResponse> handle(RequestContext& ctx, proto::DeleteRecordsRequest& req);
Task<proto::DescribeClusterResponse> handle(RequestContext& ctx, proto::DescribeClusterRequest& req);
Task<proto::DescribeLogDirsResponse> handle(RequestContext& ctx, proto::DescribeLogDirsRequest& req);
Task<proto::OffsetForLeaderEpochResponse> handle(RequestContext& ctx, proto::OffsetForLeaderEpochRequest& req);
Task<proto::ElectLeadersResponse> handle(RequestContext& ctx, proto::ElectLeadersRequest& req);
Task<proto::AlterPartitionReassignmentsResponse> handle(RequestContext& ctx,
                                                        proto::AlterPartitionReassignmentsRequest& req);
Task<proto::ListPartitionReassignmentsResponse> handle(RequestContext& ctx,
                                                       proto::ListPartitionReassignmentsRequest& req);
Task<proto::DescribeTopicPartitionsResponse> handle(RequestContext& ctx, proto::DescribeTopicPartitionsRequest& req);

}  // namespace millrace::broker
