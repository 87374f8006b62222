// ListOffsets (key 2), v1-7: -1 latest (the high watermark, as Kafka gives
// read_uncommitted consumers; without transactions it is also the last stable
// offset), -2 earliest (log start), -3 max timestamp (KIP-734), otherwise the
// first offset whose timestamp >= the given one.
#include "broker/handlers/errors.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::ListOffsetsResponse> handle(RequestContext& ctx, proto::ListOffsetsRequest& req) {
  auto& b = ctx.broker;
  proto::ListOffsetsResponse resp;
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.timestamp = -1;
      rp.offset = -1;
      auto log = b.logs.get({t.name, p.partition_index});
      if (!log) {
        rp.error_code = ctx.note(proto::ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      rp.leader_epoch = 0;
      if (p.timestamp == -1) {
        rp.offset = log->high_watermark().value();
      } else if (p.timestamp == -2) {
        rp.offset = log->log_start_offset().value();
      } else {
        auto r = log->offset_for_timestamp(p.timestamp);
        if (!r.ok()) {
          rp.error_code = ctx.note(kafka_error(r.code()));
          continue;
        }
        if (r.value()) {
          rp.timestamp = r.value()->timestamp;
          rp.offset = r.value()->offset.value();
        }
      }
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
