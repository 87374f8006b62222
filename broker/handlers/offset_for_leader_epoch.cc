// OffsetForLeaderEpoch (key 23), v2-4: the end offset of the requested epoch
// from the log's leader-epoch cache (clients use it to detect truncation).
#include "broker/handlers/handlers.h"
#include "broker/handlers/partition_state.h"

namespace millrace::broker {

Task<proto::OffsetForLeaderEpochResponse> handle(RequestContext& ctx, proto::OffsetForLeaderEpochRequest& req) {
  proto::OffsetForLeaderEpochResponse resp;
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.topic = t.topic;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition = p.partition;
      auto served = served_log(ctx.broker.logs, t.topic, p.partition);  // offline: KAFKA_STORAGE_ERROR
      const auto& log = served.log;
      if (served.error_code != 0) {
        rp.error_code = ctx.note(served.error_code);
        rp.leader_epoch = -1;
        rp.end_offset = -1;
        continue;
      }
      if (p.current_leader_epoch > 0) {
        rp.error_code = ctx.note(proto::ErrorCode::kUnknownLeaderEpoch);
        continue;
      }
      auto e = log->end_offset_for_epoch(LeaderEpoch(p.leader_epoch));
      rp.leader_epoch = e.epoch.value();
      rp.end_offset = e.end_offset.value();
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
