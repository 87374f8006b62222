// AlterPartitionReassignments (key 45) and ListPartitionReassignments (key
// 46), v0: a single node cannot move replicas. Reassigning to exactly this
// node is a no-op; anything else is INVALID_REPLICA_ASSIGNMENT; cancelling
// (null replicas) is NO_REASSIGNMENT_IN_PROGRESS; the list is always empty.
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::AlterPartitionReassignmentsResponse> handle(RequestContext& ctx,
                                                        proto::AlterPartitionReassignmentsRequest& req) {
  proto::AlterPartitionReassignmentsResponse resp;
  for (const auto& t : req.topics) {
    auto& rt = resp.responses.emplace_back();
    rt.name = t.name;
    auto info = ctx.broker.topics.get(t.name);
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      if (!info || p.partition_index < 0 || p.partition_index >= info->partitions) {
        rp.error_code = ctx.note(proto::ErrorCode::kUnknownTopicOrPartition);
      } else if (!p.replicas) {
        rp.error_code = ctx.note(proto::ErrorCode::kNoReassignmentInProgress);
      } else if (*p.replicas != std::vector<int32_t>{ctx.broker.node_id}) {
        rp.error_code = ctx.note(proto::ErrorCode::kInvalidReplicaAssignment);
        rp.error_message = "only broker " + std::to_string(ctx.broker.node_id) + " exists";
      }
    }
  }
  co_return resp;
}

Task<proto::ListPartitionReassignmentsResponse> handle(RequestContext&, proto::ListPartitionReassignmentsRequest&) {
  co_return proto::ListPartitionReassignmentsResponse{};
}

}  // namespace millrace::broker
