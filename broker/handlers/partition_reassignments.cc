// AlterPartitionReassignments (key 45) and ListPartitionReassignments (key 46),
// v0. Alter runs where the active controller is (the dispatcher forwards it):
// each partition's target goes through the controller's decision
// (cluster/controller/reassignment_control.h) and is answered once its record
// is committed and applied here; the move itself is the partition's Raft group's
// (its leader steers it: broker/replication/replication_service.h), and ends
// with the controller's record once the group runs on the target. A reorder of
// the same brokers ends at once. List answers from this node's metadata image:
// the partitions whose replicas are being added or removed. Alter needs ALTER
// on the cluster (else every named partition and the request get
// CLUSTER_AUTHORIZATION_FAILED, Kafka's error response), List DESCRIBE
// (checked by the dispatcher).
#include "broker/handlers/authorize.h"
#include "broker/handlers/await_callback.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::AlterPartitionReassignmentsResponse> handle(RequestContext& ctx,
                                                        proto::AlterPartitionReassignmentsRequest& req) {
  proto::AlterPartitionReassignmentsResponse resp;
  const bool may_alter = cluster_allowed(ctx, *ctx.broker.metadata.current(), acl::AclOperation::kAlter);
  if (!may_alter) {
    resp.error_code = ctx.note(proto::ErrorCode::kClusterAuthorizationFailed);
    resp.error_message = authorization_message(resp.error_code);
  }
  for (const auto& t : req.topics) {
    auto& rt = resp.responses.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      if (!may_alter) {
        rp.error_code = resp.error_code;
        rp.error_message = resp.error_message;
        continue;
      }
      auto done = await_callback<TopicError>(ctx.executor, [&ctx, &t, &p](auto cb) {
        ctx.broker.topic_writer->reassign_async(t.name, p.partition_index, p.replicas, std::move(cb));
      });
      TopicError e = co_await std::move(done);
      rp.error_code = ctx.note(e.code);
      if (rp.error_code) rp.error_message = std::move(e.message);
    }
  }
  co_return resp;
}

Task<proto::ListPartitionReassignmentsResponse> handle(RequestContext& ctx,
                                                       proto::ListPartitionReassignmentsRequest& req) {
  proto::ListPartitionReassignmentsResponse resp;
  auto image = ctx.broker.metadata.current();
  auto add = [&](const std::string& name, const cluster::PartitionImage& p) {
    if (p.adding.empty() && p.removing.empty()) return;
    if (resp.topics.empty() || resp.topics.back().name != name) resp.topics.emplace_back().name = name;
    auto& rp = resp.topics.back().partitions.emplace_back();
    rp.partition_index = p.index;
    rp.replicas = p.replicas;
    rp.adding_replicas = p.adding;
    rp.removing_replicas = p.removing;
  };
  if (!req.topics) {
    for (const auto& [name, topic] : image->topics())
      for (const auto& p : topic.partitions) add(name, p);
  } else {
    for (const auto& t : *req.topics)
      for (int32_t i : t.partition_indexes)
        if (const cluster::PartitionImage* p = image->partition(t.name, i)) add(t.name, *p);
  }
  co_return resp;
}

}  // namespace millrace::broker
