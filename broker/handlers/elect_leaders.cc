// ElectLeaders (key 43), v0-2: one node leads every partition already, so
// each named partition answers ELECTION_NOT_NEEDED (unknown ones
// UNKNOWN_TOPIC_OR_PARTITION); a null list (all partitions) answers nothing.
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::ElectLeadersResponse> handle(RequestContext& ctx, proto::ElectLeadersRequest& req) {
  proto::ElectLeadersResponse resp;
  if (!req.topic_partitions) co_return resp;
  for (const auto& t : *req.topic_partitions) {
    auto& rt = resp.replica_election_results.emplace_back();
    rt.topic = t.topic;
    auto info = ctx.broker.topics.get(t.topic);
    for (int32_t p : t.partitions) {
      auto& rp = rt.partition_result.emplace_back();
      rp.partition_id = p;
      if (!info || p < 0 || p >= info->partitions) {
        rp.error_code = ctx.note(proto::ErrorCode::kUnknownTopicOrPartition);
      } else {
        rp.error_code = ctx.note(proto::ErrorCode::kElectionNotNeeded);
        rp.error_message = "the single broker already leads this partition";
      }
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
