// ListOffsets (key 2), v1-7: -1 latest (the high watermark, as Kafka gives
// read_uncommitted consumers; without transactions it is also the last stable
// offset), -2 earliest (log start), -3 max timestamp (KIP-734), otherwise the
// first offset whose timestamp >= the given one. Served by the partition's
// leader only (NOT_LEADER_OR_FOLLOWER; current_leader_epoch v4+ checked as
// Kafka does), which answers its leader epoch.
#include <unistd.h>

#include "broker/handlers/errors.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "cluster/partition/served_partition.h"
#include "protocol/record/record_reader.h"

namespace millrace::broker {

namespace {

// KIP-734 answers the record with the largest timestamp (the first such record),
// as Kafka's LogSegment does: the log finds the batch whose max timestamp is the
// largest; this reads that batch and finds the record inside it.
std::optional<storage::TimestampOffset> record_with_max_timestamp(const storage::Log& log,
                                                                  const storage::TimestampOffset& batch) {
  auto region = log.read(batch.offset, 1, log.log_end_offset());
  if (!region.ok() || region->length <= 0) return std::nullopt;
  std::vector<uint8_t> bytes(static_cast<size_t>(region->length));
  ssize_t n = ::pread(region->fd(), bytes.data(), bytes.size(), region->position);
  if (n != static_cast<ssize_t>(bytes.size())) return std::nullopt;
  auto h = record::parse_batch_header(bytes);
  if (h.error != record::BatchError::kOk || bytes.size() < h.header.total_size()) return std::nullopt;
  std::vector<uint8_t> scratch;
  std::optional<storage::TimestampOffset> best;
  (void)record::for_each_record(
      std::span<const uint8_t>(bytes).first(h.header.total_size()),
      [&](const record::Record& rec) {
        int64_t ts = record::record_timestamp(h.header, rec);
        if (!best || ts > best->timestamp) best = storage::TimestampOffset{ts, Offset(record::record_offset(h.header, rec))};
        return true;
      },
      scratch);
  return best;
}

}  // namespace

Task<proto::ListOffsetsResponse> handle(RequestContext& ctx, proto::ListOffsetsRequest& req) {
  auto& b = ctx.broker;
  proto::ListOffsetsResponse resp;
  auto image = b.metadata.current();
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    const bool may_describe = topic_allowed(ctx, *image, acl::AclOperation::kDescribe, t.name);
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.timestamp = -1;
      rp.offset = -1;
      if (!may_describe) {
        rp.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
        continue;
      }
      auto served = cluster::served_partition(b.partitions, t.name, p.partition_index);  // offline: KAFKA_STORAGE_ERROR
      if (served.error_code != 0) {
        rp.error_code = ctx.note(served.error_code);
        continue;
      }
      if (auto e = served.partition->check_leader(b.partitions.self(), p.current_leader_epoch); e != proto::ErrorCode::kNone) {
        rp.error_code = ctx.note(e);
        continue;
      }
      const auto& log = served.partition->log();
      rp.leader_epoch = served.partition->leadership().leader_epoch.value();
      if (p.timestamp == -1) {  // the end of data, Raft's entries after it not counted
        rp.offset = served.partition->consumer_high_watermark(served.partition->high_watermark()).value();
      } else if (p.timestamp == -2) {
        rp.offset = log->log_start_offset().value();
      } else {
        auto r = log->offset_for_timestamp(p.timestamp);
        if (!r.ok()) {
          rp.error_code = ctx.note(kafka_error(r.code()));
          continue;
        }
        if (r.value()) {
          auto found = *r.value();
          if (p.timestamp == -3)
            if (auto rec = record_with_max_timestamp(*log, found)) found = *rec;
          rp.timestamp = found.timestamp;
          rp.offset = found.offset.value();
        }
      }
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
