// ElectLeaders (key 43), v0-2. PREFERRED (0): each partition's leadership goes
// back to its preferred replica, through its leader wherever this request
// landed (broker/replication/preferred_leaders.h). UNCLEAN (1) is refused with
// INVALID_REQUEST with a message (kafka-leader-election.sh prints it): a
// partition's Raft group elects only a replica holding every committed entry,
// so there is no unclean election to run (a partition of one replica answers
// ELECTION_NOT_NEEDED either way). Without ALTER on the cluster, every named
// partition and the request get CLUSTER_AUTHORIZATION_FAILED (Kafka's error response).
#include "broker/controller/peer_link.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "broker/replication/preferred_leaders.h"

namespace millrace::broker {

namespace {

constexpr int8_t kUnclean = 1;
constexpr const char* kNoUnclean =
    "unclean leader election is not supported: a partition's Raft group elects only a replica that holds every "
    "committed entry";

// Named partitions as asked; none named: those Kafka would elect, every
// replicated partition without a leader (nothing is listed when all have one).
proto::ElectLeadersResponse refuse_unclean(RequestContext& ctx, const proto::ElectLeadersRequest& req,
                                           const cluster::MetadataImage& image) {
  proto::ElectLeadersResponse resp;
  std::vector<proto::ElectLeadersRequest::TopicPartitions> asked;
  if (req.topic_partitions) {
    asked = *req.topic_partitions;
  } else {
    for (const auto& [name, topic] : image.topics())
      for (const auto& p : topic.partitions)
        if (p.replicas.size() > 1 && p.leader < 0) {
          if (asked.empty() || asked.back().topic != name) asked.emplace_back().topic = name;
          asked.back().partitions.push_back(p.index);
        }
  }
  for (const auto& t : asked) {
    auto& rt = resp.replica_election_results.emplace_back();
    rt.topic = t.topic;
    for (int32_t p : t.partitions) {
      auto& rp = rt.partition_result.emplace_back();
      rp.partition_id = p;
      const cluster::PartitionImage* part = image.partition(t.topic, p);
      if (!part) {
        rp.error_code = ctx.note(proto::ErrorCode::kUnknownTopicOrPartition);
      } else if (part->replicas.size() < 2) {
        rp.error_code = ctx.note(proto::ErrorCode::kElectionNotNeeded);
        rp.error_message = "a partition of one replica: that replica leads it";
      } else {
        rp.error_code = ctx.note(proto::ErrorCode::kInvalidRequest);
        rp.error_message = kNoUnclean;
      }
    }
  }
  return resp;
}

}  // namespace

Task<proto::ElectLeadersResponse> handle(RequestContext& ctx, proto::ElectLeadersRequest& req) {
  auto image = ctx.broker.metadata.current();
  if (!cluster_allowed(ctx, *image, acl::AclOperation::kAlter)) {
    proto::ElectLeadersResponse resp;
    resp.error_code = ctx.note(proto::ErrorCode::kClusterAuthorizationFailed);
    for (const auto& t : req.topic_partitions.value_or(std::vector<proto::ElectLeadersRequest::TopicPartitions>{})) {
      auto& rt = resp.replica_election_results.emplace_back();
      rt.topic = t.topic;
      for (int32_t p : t.partitions) {
        auto& rp = rt.partition_result.emplace_back();
        rp.partition_id = p;
        rp.error_code = resp.error_code;
        rp.error_message = authorization_message(resp.error_code);
      }
    }
    co_return resp;
  }
  if (req.election_type == kUnclean) co_return refuse_unclean(ctx, req, *image);
  const bool forwarded = ctx.client_id.starts_with(PeerLink::kClientIdPrefix);
  auto elected = elect_preferred_leaders(ctx.broker.replication, *image, ctx.broker.node_id, req, forwarded);
  auto resp = co_await std::move(elected);
  for (const auto& t : resp.replica_election_results)
    for (const auto& p : t.partition_result) ctx.note(p.error_code);
  co_return resp;
}

}  // namespace millrace::broker
