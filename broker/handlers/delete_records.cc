// DeleteRecords (key 21), v0-2: moves each partition's log start offset
// (offset -1 = the high watermark), on the partition's leader only
// (NOT_LEADER_OR_FOLLOWER elsewhere, as Kafka).
#include "broker/handlers/errors.h"
#include "broker/handlers/handlers.h"
#include "cluster/partition/served_partition.h"

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
      auto& partitions = ctx.broker.partitions;
      auto served = cluster::served_partition(partitions, t.name, p.partition_index);  // offline: KAFKA_STORAGE_ERROR
      if (served.error_code != 0) {
        rp.error_code = ctx.note(served.error_code);
        continue;
      }
      if (auto e = served.partition->check_leader(partitions.self()); e != proto::ErrorCode::kNone) {
        rp.error_code = ctx.note(e);
        continue;
      }
      const auto& log = served.partition->log();
      Offset hw = served.partition->high_watermark();
      Offset target = p.offset == -1 ? hw : Offset(p.offset);
      if (target > hw || p.offset < -1) {
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
