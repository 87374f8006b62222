// OffsetForLeaderEpoch (key 23), v2-4: the end offset of the requested epoch
// from the log's leader-epoch cache (clients use it to detect truncation), on
// the partition's leader only, with current_leader_epoch checked as Kafka does
// (FENCED_LEADER_EPOCH older, UNKNOWN_LEADER_EPOCH newer, -1 no check).
// CLUSTER_ACTION on the cluster (a follower), else DESCRIBE on each topic (a
// consumer, KIP-320): an unauthorized topic's partitions get
// TOPIC_AUTHORIZATION_FAILED with epoch and offset -1.
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "cluster/partition/served_partition.h"

namespace millrace::broker {

Task<proto::OffsetForLeaderEpochResponse> handle(RequestContext& ctx, proto::OffsetForLeaderEpochRequest& req) {
  proto::OffsetForLeaderEpochResponse resp;
  auto image = ctx.broker.metadata.current();
  const bool replica = cluster_allowed(ctx, *image, acl::AclOperation::kClusterAction, false);
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.topic = t.topic;
    const bool may_describe = replica || topic_allowed(ctx, *image, acl::AclOperation::kDescribe, t.topic);
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition = p.partition;
      if (!may_describe) {
        rp.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
        rp.leader_epoch = -1;
        rp.end_offset = -1;
        continue;
      }
      auto& partitions = ctx.broker.partitions;
      auto served = cluster::served_partition(partitions, t.topic, p.partition);  // offline: KAFKA_STORAGE_ERROR
      if (served.error_code != 0) {
        rp.error_code = ctx.note(served.error_code);
        rp.leader_epoch = -1;
        rp.end_offset = -1;
        continue;
      }
      if (auto e = served.partition->check_leader(partitions.self(), p.current_leader_epoch);
          e != proto::ErrorCode::kNone) {
        rp.error_code = ctx.note(e);
        continue;
      }
      auto e = served.partition->log()->end_offset_for_epoch(LeaderEpoch(p.leader_epoch));
      rp.leader_epoch = e.epoch.value();
      rp.end_offset = e.end_offset.value();
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
