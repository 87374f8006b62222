// DeleteGroups (key 42), v0-2: only groups without members; each answered once
// its tombstones are stored. Each group needs DELETE on it, else it alone gets
// GROUP_AUTHORIZATION_FAILED.
#include "broker/handlers/authorize.h"
#include "broker/handlers/await_callback.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::DeleteGroupsResponse> handle(RequestContext& ctx, proto::DeleteGroupsRequest& req) {
  proto::DeleteGroupsResponse resp;
  auto image = ctx.broker.metadata.current();
  for (const auto& id : req.groups_names) {
    auto& r = resp.results.emplace_back();
    r.group_id = id;
    if (!group_allowed(ctx, *image, acl::AclOperation::kDelete, id)) {
      r.error_code = ctx.note(proto::ErrorCode::kGroupAuthorizationFailed);
      continue;
    }
    auto& groups = ctx.broker.groups;
    auto deleted = await_callback<int16_t>(ctx.executor, [&groups, &id](auto cb) { groups.delete_group(id, std::move(cb)); });
    r.error_code = ctx.note(co_await std::move(deleted));
  }
  co_return resp;
}

}  // namespace millrace::broker
