// DeleteRecords (key 21), v0-2: moves each partition's log start offset
// (offset -1 = the high watermark).
#include "broker/handlers/errors.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/partition_state.h"

namespace millrace::broker {

Task<proto::DeleteRecordsResponse> handle(RequestContext& ctx, proto::DeleteRecordsRequest& req) {
  proto::DeleteRecordsResponse resp;
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.low_watermark = -1;
      auto served = served_log(ctx.broker.logs, t.name, p.partition_index);  // offline: KAFKA_STORAGE_ERROR
      if (served.error_code != 0) {
        rp.error_code = ctx.note(served.error_code);
        continue;
      }
      const auto& log = served.log;
      Offset target = p.offset == -1 ? log->high_watermark() : Offset(p.offset);
      if (target > log->high_watermark() || p.offset < -1) {
        rp.error_code = ctx.note(proto::ErrorCode::kOffsetOutOfRange);
        continue;
      }
      auto r = log->delete_records_before(target);
      if (!r.ok()) {
        rp.error_code = ctx.note(kafka_error(r.code()));
        continue;
      }
      rp.low_watermark = r.value().value();
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
