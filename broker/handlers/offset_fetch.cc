// OffsetFetch (key 9), v1-8: committed offsets of one group (v1-7) or of
// several groups (v8+); a null topic list (v2+) means every committed
// partition. Uncommitted partitions answer offset -1. A group whose
// __consumer_offsets partition is loading or not served here gets that error.
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

namespace {

template <typename TopicOut, typename TopicsIn>
std::vector<TopicOut> fetch_group(RequestContext& ctx, const std::string& group, const TopicsIn* topics) {
  std::vector<TopicOut> out;
  auto& groups = ctx.broker.groups;
  auto fill = [](auto& rp, int32_t partition, const std::optional<coordination::CommittedOffset>& c) {
    rp.partition_index = partition;
    rp.committed_offset = c ? c->offset : -1;
    rp.committed_leader_epoch = c ? c->leader_epoch : -1;
    rp.metadata = c ? c->metadata : std::string();
    rp.error_code = 0;
  };
  // DESCRIBE on each topic: the topics the principal may not describe are
  // left out of "all", and answer TOPIC_AUTHORIZATION_FAILED when named.
  auto image = ctx.broker.metadata.current();
  if (!topics) {
    for (const auto& [topic, parts] : groups.fetch_all_offsets(group)) {
      if (!topic_allowed(ctx, *image, acl::AclOperation::kDescribe, topic, false)) continue;
      auto& rt = out.emplace_back();
      rt.name = topic;
      for (const auto& [p, c] : parts) fill(rt.partitions.emplace_back(), p, c);
    }
    return out;
  }
  for (const auto& t : *topics) {
    auto& rt = out.emplace_back();
    rt.name = t.name;
    if (!topic_allowed(ctx, *image, acl::AclOperation::kDescribe, t.name)) {
      for (int32_t p : t.partition_indexes) {
        auto& rp = rt.partitions.emplace_back();
        fill(rp, p, std::nullopt);
        rp.error_code = proto::code(proto::ErrorCode::kTopicAuthorizationFailed);
      }
      continue;
    }
    for (int32_t p : t.partition_indexes) fill(rt.partitions.emplace_back(), p, groups.fetch_offset(group, t.name, p));
  }
  return out;
}

}  // namespace

Task<proto::OffsetFetchResponse> handle(RequestContext& ctx, proto::OffsetFetchRequest& req) {
  proto::OffsetFetchResponse resp;
  auto& groups = ctx.broker.groups;
  auto image = ctx.broker.metadata.current();
  if (ctx.api_version < 8) {
    if (!group_allowed(ctx, *image, acl::AclOperation::kDescribe, req.group_id)) {
      resp.error_code = ctx.note(proto::ErrorCode::kGroupAuthorizationFailed);
      co_return resp;
    }
    const auto* topics = req.topics ? &*req.topics : nullptr;
    resp.topics = fetch_group<proto::OffsetFetchResponse::OffsetFetchResponseTopic>(ctx, req.group_id, topics);
    // A group whose partition is loading or not served here: the error
    // (COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR) at the top from v2, on
    // every partition before, so the client looks again.
    if (int16_t e = groups.partition_error(req.group_id); e != coordination::err::kNone) {
      if (ctx.api_version >= 2) {
        resp.error_code = ctx.note(e);
        resp.topics.clear();
      } else {
        for (auto& t : resp.topics)
          for (auto& p : t.partitions) p.error_code = ctx.note(e);
      }
    }
    co_return resp;
  }
  for (const auto& g : req.groups) {
    auto& rg = resp.groups.emplace_back();
    rg.group_id = g.group_id;
    if (!group_allowed(ctx, *image, acl::AclOperation::kDescribe, g.group_id)) {
      rg.error_code = ctx.note(proto::ErrorCode::kGroupAuthorizationFailed);
      continue;
    }
    if (int16_t e = groups.partition_error(g.group_id); e != coordination::err::kNone) {
      rg.error_code = ctx.note(e);
      continue;
    }
    const auto* topics = g.topics ? &*g.topics : nullptr;
    rg.topics = fetch_group<proto::OffsetFetchResponse::OffsetFetchResponseGroup::OffsetFetchResponseTopics>(
        ctx, g.group_id, topics);
  }
  co_return resp;
}

}  // namespace millrace::broker
