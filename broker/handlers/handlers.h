// One handler per Kafka API, one file each in this folder. Every handler
// reads the same way: validate the decoded request, delegate to the domain
// (storage, TopicRegistry, GroupCoordinator), fill the response. The
// dispatcher (broker/kafka/dispatcher.cc) finds a handler by overload on its
// request type.
//
// Each handler is declared here with the versions it serves, as
// `Handler<Request, advertise_min, advertise_max[, serve_min]>` right above its
// handle() (Redpanda's handler<Api, min, max>): `ServedApis` lists them all, and
// broker/kafka/api_table.cc builds ApiVersions' table from that list, checking at
// compile time that every listed API has a handle() overload and that its
// versions are ones the generated codec knows. A handler without versions, or
// versions without a handler, does not compile. `serve_min` > `advertise_min`
// marks versions advertised for clients' feature gates but answered with
// UNSUPPORTED_VERSION.
#pragma once

#include <utility>
#include <boost/asio/awaitable.hpp>

#include <cstdint>

#include "broker/kafka/request_context.h"
#include "broker/kafka/staged.h"
#include "protocol/generated/messages.h"

namespace millrace::broker {

template <typename T>
using Task = boost::asio::awaitable<T>;

template <typename Req, int16_t AdvertiseMin, int16_t AdvertiseMax, int16_t ServeMin = AdvertiseMin>
struct Handler {
  using Request = Req;
  static constexpr int16_t kApiKey = Req::kApiKey;
  static constexpr int16_t kAdvertiseMin = AdvertiseMin, kAdvertiseMax = AdvertiseMax, kServeMin = ServeMin;
  static_assert(Req::kLowestVersion <= AdvertiseMin && AdvertiseMax <= Req::kHighestVersion,
                "a handler may advertise only versions the generated codec knows");
  static_assert(AdvertiseMin <= ServeMin && ServeMin <= AdvertiseMax, "served versions lie inside the advertised ones");
};
template <typename... H>
struct HandlerList {};

// Two stages (kafka/staged.h): the connection pipelines produces. v0-2 are advertised for
// librdkafka's codec gate (it enables compression only if the range includes v0) and answered UNSUPPORTED_VERSION.
using ProduceHandler = Handler<proto::ProduceRequest, 0, 11, 3>;
Task<Staged<proto::ProduceResponse>> handle(RequestContext& ctx, proto::ProduceRequest& req);
// v13+: topics by id.
using FetchHandler = Handler<proto::FetchRequest, 4, 17>;
Task<proto::FetchResponse> handle(RequestContext& ctx, proto::FetchRequest& req);
using ListOffsetsHandler = Handler<proto::ListOffsetsRequest, 1, 7>;
Task<proto::ListOffsetsResponse> handle(RequestContext& ctx, proto::ListOffsetsRequest& req);
using MetadataHandler = Handler<proto::MetadataRequest, 0, 12>;
Task<proto::MetadataResponse> handle(RequestContext& ctx, proto::MetadataRequest& req);
using OffsetCommitHandler = Handler<proto::OffsetCommitRequest, 2, 8>;
Task<proto::OffsetCommitResponse> handle(RequestContext& ctx, proto::OffsetCommitRequest& req);
using OffsetFetchHandler = Handler<proto::OffsetFetchRequest, 1, 8>;
Task<proto::OffsetFetchResponse> handle(RequestContext& ctx, proto::OffsetFetchRequest& req);
using FindCoordinatorHandler = Handler<proto::FindCoordinatorRequest, 0, 4>;
Task<proto::FindCoordinatorResponse> handle(RequestContext& ctx, proto::FindCoordinatorRequest& req);
using JoinGroupHandler = Handler<proto::JoinGroupRequest, 0, 9>;
Task<proto::JoinGroupResponse> handle(RequestContext& ctx, proto::JoinGroupRequest& req);
using HeartbeatHandler = Handler<proto::HeartbeatRequest, 0, 4>;
Task<proto::HeartbeatResponse> handle(RequestContext& ctx, proto::HeartbeatRequest& req);
using LeaveGroupHandler = Handler<proto::LeaveGroupRequest, 0, 5>;
Task<proto::LeaveGroupResponse> handle(RequestContext& ctx, proto::LeaveGroupRequest& req);
using SyncGroupHandler = Handler<proto::SyncGroupRequest, 0, 5>;
Task<proto::SyncGroupResponse> handle(RequestContext& ctx, proto::SyncGroupRequest& req);
using DescribeGroupsHandler = Handler<proto::DescribeGroupsRequest, 0, 5>;
Task<proto::DescribeGroupsResponse> handle(RequestContext& ctx, proto::DescribeGroupsRequest& req);
using ListGroupsHandler = Handler<proto::ListGroupsRequest, 0, 5>;
Task<proto::ListGroupsResponse> handle(RequestContext& ctx, proto::ListGroupsRequest& req);
// KIP-511's reply to a version it does not know is in the dispatcher.
using ApiVersionsHandler = Handler<proto::ApiVersionsRequest, 0, 3>;
Task<proto::ApiVersionsResponse> handle(RequestContext& ctx, proto::ApiVersionsRequest& req);
using CreateTopicsHandler = Handler<proto::CreateTopicsRequest, 2, 7>;
Task<proto::CreateTopicsResponse> handle(RequestContext& ctx, proto::CreateTopicsRequest& req);
using DeleteTopicsHandler = Handler<proto::DeleteTopicsRequest, 1, 6>;
Task<proto::DeleteTopicsResponse> handle(RequestContext& ctx, proto::DeleteTopicsRequest& req);
using DeleteRecordsHandler = Handler<proto::DeleteRecordsRequest, 0, 2>;
Task<proto::DeleteRecordsResponse> handle(RequestContext& ctx, proto::DeleteRecordsRequest& req);
using InitProducerIdHandler = Handler<proto::InitProducerIdRequest, 0, 4>;
Task<proto::InitProducerIdResponse> handle(RequestContext& ctx, proto::InitProducerIdRequest& req);
using OffsetForLeaderEpochHandler = Handler<proto::OffsetForLeaderEpochRequest, 2, 4>;
Task<proto::OffsetForLeaderEpochResponse> handle(RequestContext& ctx, proto::OffsetForLeaderEpochRequest& req);
using DescribeConfigsHandler = Handler<proto::DescribeConfigsRequest, 1, 4>;
Task<proto::DescribeConfigsResponse> handle(RequestContext& ctx, proto::DescribeConfigsRequest& req);
using AlterConfigsHandler = Handler<proto::AlterConfigsRequest, 0, 2>;
Task<proto::AlterConfigsResponse> handle(RequestContext& ctx, proto::AlterConfigsRequest& req);
using DescribeLogDirsHandler = Handler<proto::DescribeLogDirsRequest, 1, 4>;
Task<proto::DescribeLogDirsResponse> handle(RequestContext& ctx, proto::DescribeLogDirsRequest& req);
using CreatePartitionsHandler = Handler<proto::CreatePartitionsRequest, 0, 3>;
Task<proto::CreatePartitionsResponse> handle(RequestContext& ctx, proto::CreatePartitionsRequest& req);
using DeleteGroupsHandler = Handler<proto::DeleteGroupsRequest, 0, 2>;
Task<proto::DeleteGroupsResponse> handle(RequestContext& ctx, proto::DeleteGroupsRequest& req);
using ElectLeadersHandler = Handler<proto::ElectLeadersRequest, 0, 2>;
Task<proto::ElectLeadersResponse> handle(RequestContext& ctx, proto::ElectLeadersRequest& req);
using IncrementalAlterConfigsHandler = Handler<proto::IncrementalAlterConfigsRequest, 0, 1>;
Task<proto::IncrementalAlterConfigsResponse> handle(RequestContext& ctx, proto::IncrementalAlterConfigsRequest& req);
using AlterPartitionReassignmentsHandler = Handler<proto::AlterPartitionReassignmentsRequest, 0, 0>;
Task<proto::AlterPartitionReassignmentsResponse> handle(RequestContext& ctx, proto::AlterPartitionReassignmentsRequest& req);
using ListPartitionReassignmentsHandler = Handler<proto::ListPartitionReassignmentsRequest, 0, 0>;
Task<proto::ListPartitionReassignmentsResponse> handle(RequestContext& ctx, proto::ListPartitionReassignmentsRequest& req);
using OffsetDeleteHandler = Handler<proto::OffsetDeleteRequest, 0, 0>;
Task<proto::OffsetDeleteResponse> handle(RequestContext& ctx, proto::OffsetDeleteRequest& req);
using DescribeClusterHandler = Handler<proto::DescribeClusterRequest, 0, 1>;
Task<proto::DescribeClusterResponse> handle(RequestContext& ctx, proto::DescribeClusterRequest& req);
using DescribeQuorumHandler = Handler<proto::DescribeQuorumRequest, 0, 2>;
Task<proto::DescribeQuorumResponse> handle(RequestContext& ctx, proto::DescribeQuorumRequest& req);
using AddRaftVoterHandler = Handler<proto::AddRaftVoterRequest, 0, 0>;
Task<proto::AddRaftVoterResponse> handle(RequestContext& ctx, proto::AddRaftVoterRequest& req);
using RemoveRaftVoterHandler = Handler<proto::RemoveRaftVoterRequest, 0, 0>;
Task<proto::RemoveRaftVoterResponse> handle(RequestContext& ctx, proto::RemoveRaftVoterRequest& req);
using SaslHandshakeHandler = Handler<proto::SaslHandshakeRequest, 0, 1>;
Task<proto::SaslHandshakeResponse> handle(RequestContext& ctx, proto::SaslHandshakeRequest& req);
using SaslAuthenticateHandler = Handler<proto::SaslAuthenticateRequest, 0, 2>;
Task<proto::SaslAuthenticateResponse> handle(RequestContext& ctx, proto::SaslAuthenticateRequest& req);
using DescribeUserScramCredentialsHandler = Handler<proto::DescribeUserScramCredentialsRequest, 0, 0>;
Task<proto::DescribeUserScramCredentialsResponse> handle(RequestContext& ctx,
                                                         proto::DescribeUserScramCredentialsRequest& req);
using AlterUserScramCredentialsHandler = Handler<proto::AlterUserScramCredentialsRequest, 0, 0>;
Task<proto::AlterUserScramCredentialsResponse> handle(RequestContext& ctx, proto::AlterUserScramCredentialsRequest& req);
using DescribeAclsHandler = Handler<proto::DescribeAclsRequest, 1, 3>;
Task<proto::DescribeAclsResponse> handle(RequestContext& ctx, proto::DescribeAclsRequest& req);
using CreateAclsHandler = Handler<proto::CreateAclsRequest, 1, 3>;
Task<proto::CreateAclsResponse> handle(RequestContext& ctx, proto::CreateAclsRequest& req);
using DeleteAclsHandler = Handler<proto::DeleteAclsRequest, 1, 3>;
Task<proto::DeleteAclsResponse> handle(RequestContext& ctx, proto::DeleteAclsRequest& req);
using UpdateFeaturesHandler = Handler<proto::UpdateFeaturesRequest, 0, 2>;
Task<proto::UpdateFeaturesResponse> handle(RequestContext& ctx, proto::UpdateFeaturesRequest& req);
using DescribeProducersHandler = Handler<proto::DescribeProducersRequest, 0, 0>;
Task<proto::DescribeProducersResponse> handle(RequestContext& ctx, proto::DescribeProducersRequest& req);
using DescribeTopicPartitionsHandler = Handler<proto::DescribeTopicPartitionsRequest, 0, 0>;
Task<proto::DescribeTopicPartitionsResponse> handle(RequestContext& ctx, proto::DescribeTopicPartitionsRequest& req);

// Every API the broker advertises, in ApiVersions' order.
using ServedApis = HandlerList<ProduceHandler, FetchHandler, ListOffsetsHandler, MetadataHandler, OffsetCommitHandler, OffsetFetchHandler, FindCoordinatorHandler, JoinGroupHandler, HeartbeatHandler, LeaveGroupHandler, SyncGroupHandler, DescribeGroupsHandler, ListGroupsHandler, ApiVersionsHandler, CreateTopicsHandler, DeleteTopicsHandler, DeleteRecordsHandler, InitProducerIdHandler, OffsetForLeaderEpochHandler, DescribeConfigsHandler, AlterConfigsHandler, DescribeLogDirsHandler, CreatePartitionsHandler, DeleteGroupsHandler, ElectLeadersHandler, IncrementalAlterConfigsHandler, AlterPartitionReassignmentsHandler, ListPartitionReassignmentsHandler, OffsetDeleteHandler, DescribeClusterHandler, DescribeTopicPartitionsHandler, DescribeQuorumHandler, AddRaftVoterHandler, RemoveRaftVoterHandler, SaslHandshakeHandler, SaslAuthenticateHandler, DescribeUserScramCredentialsHandler, AlterUserScramCredentialsHandler, DescribeAclsHandler, CreateAclsHandler, DeleteAclsHandler, DescribeProducersHandler, UpdateFeaturesHandler>;

}  // namespace millrace::broker
