// OffsetCommit (key 8), v2-8: generation, member and group.instance.id checked
// by the coordinator; generation -1 with no member id is a "simple" commit
// (also the admin AlterConsumerGroupOffsets), allowed while the group has no
// members. Offsets go to __consumer_offsets; the answer waits until they are
// stored there.
#include "broker/handlers/await_callback.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "storage/log.h"

namespace millrace::broker {

Task<proto::OffsetCommitResponse> handle(RequestContext& ctx, proto::OffsetCommitRequest& req) {
  // As Kafka (KafkaApis.handleOffsetCommitRequest): a partition of a topic
  // that does not exist, or past its partition count, is refused with
  // UNKNOWN_TOPIC_OR_PARTITION and not committed; the others go on.
  std::vector<coordination::OffsetCommitEntry> entries;
  std::vector<int16_t> errors;  // per partition in request order; -1: the coordinator's answer
  // READ on the group, then on each topic (Kafka's checks and errors).
  auto image = ctx.broker.metadata.current();
  const bool group_ok = group_allowed(ctx, *image, acl::AclOperation::kRead, req.group_id);
  for (const auto& t : req.topics) {
    auto info = ctx.broker.topics.get(t.name);
    const bool topic_ok = group_ok && topic_allowed(ctx, *image, acl::AclOperation::kRead, t.name);
    for (const auto& p : t.partitions) {
      if (!group_ok || !topic_ok) {
        errors.push_back(proto::code(!group_ok ? proto::ErrorCode::kGroupAuthorizationFailed
                                               : proto::ErrorCode::kTopicAuthorizationFailed));
        continue;
      }
      if (!info || p.partition_index < 0 || p.partition_index >= info->partitions) {
        errors.push_back(coordination::err::kUnknownTopicOrPartition);
        continue;
      }
      errors.push_back(-1);
      entries.push_back({t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.committed_metadata});
    }
  }
  // Answered once stored: the coordinator's GroupStore writes a commit as an
  // acks=all Produce (written out, and fsynced under log.flush.on.acks.all).
  std::vector<int16_t> committed;
  if (!entries.empty()) {
    auto& groups = ctx.broker.groups;
    auto commit = await_callback<std::vector<int16_t>>(
        ctx.executor, [&groups, &req, &entries](auto cb) {
          groups.commit_offsets(req.group_id, req.member_id, req.generation_id_or_member_epoch, req.group_instance_id,
                                entries, storage::system_clock_ms(), std::move(cb));
        });
    committed = co_await std::move(commit);
  }
  for (size_t i = 0, k = 0; i < errors.size(); ++i)
    if (errors[i] == -1) errors[i] = committed[k++];
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
