// OffsetDelete (key 47), v0: removes committed offsets of an empty group
// (partitions of a group with members: GROUP_SUBSCRIBED_TO_TOPIC).
// As Kafka: DELETE on the group, else only GROUP_AUTHORIZATION_FAILED at the
// top; then READ on each topic, else its partitions get
// TOPIC_AUTHORIZATION_FAILED and only the others go to the coordinator. A
// group-level error of the coordinator is the whole answer.
#include "broker/handlers/authorize.h"
#include "broker/handlers/await_callback.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::OffsetDeleteResponse> handle(RequestContext& ctx, proto::OffsetDeleteRequest& req) {
  proto::OffsetDeleteResponse resp;
  auto image = ctx.broker.metadata.current();
  if (!group_allowed(ctx, *image, acl::AclOperation::kDelete, req.group_id)) {
    resp.error_code = ctx.note(proto::ErrorCode::kGroupAuthorizationFailed);
    co_return resp;
  }
  std::vector<bool> may_read;
  std::vector<std::pair<std::string, int32_t>> parts;
  for (const auto& t : req.topics) {
    may_read.push_back(topic_allowed(ctx, *image, acl::AclOperation::kRead, t.name));
    if (!may_read.back()) continue;
    for (const auto& p : t.partitions) parts.emplace_back(t.name, p.partition_index);
  }
  auto& groups = ctx.broker.groups;
  using Answer = std::pair<int16_t, std::vector<int16_t>>;
  auto deleted = await_callback<Answer>(ctx.executor, [&groups, &req, &parts](auto cb) {
    groups.delete_offsets(req.group_id, parts,
                          [cb = std::move(cb)](int16_t e, std::vector<int16_t> per) { cb({e, std::move(per)}); });
  });
  auto [group_error, per] = co_await std::move(deleted);
  resp.error_code = ctx.note(group_error);
  if (resp.error_code) co_return resp;
  size_t i = 0, t_index = 0;
  for (const auto& t : req.topics) {
    const bool read = may_read[t_index++];
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.error_code = ctx.note(read ? per[i++] : proto::code(proto::ErrorCode::kTopicAuthorizationFailed));
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
