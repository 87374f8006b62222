// OffsetCommit (key 8), v2-8: generation and member checked by the
// coordinator; generation -1 with no member id is a "simple" commit, allowed
// while the group has no members. Offsets go to __consumer_offsets.
#include "broker/handlers/handlers.h"
#include "storage/log.h"

namespace millrace::broker {

Task<proto::OffsetCommitResponse> handle(RequestContext& ctx, proto::OffsetCommitRequest& req) {
  std::vector<coordination::OffsetCommitEntry> entries;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions)
      entries.push_back({t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.committed_metadata});
  auto errors = ctx.broker.groups.commit_offsets(req.group_id, req.member_id, req.generation_id_or_member_epoch,
                                                 req.group_instance_id, entries, storage::system_clock_ms());
  proto::OffsetCommitResponse resp;
  size_t i = 0;
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.error_code = ctx.note(errors[i++]);
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
