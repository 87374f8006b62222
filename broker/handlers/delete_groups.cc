// DeleteGroups (key 42), v0-2: only groups without members.
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::DeleteGroupsResponse> handle(RequestContext& ctx, proto::DeleteGroupsRequest& req) {
  proto::DeleteGroupsResponse resp;
  for (const auto& id : req.groups_names) {
    auto& r = resp.results.emplace_back();
    r.group_id = id;
    r.error_code = ctx.note(ctx.broker.groups.delete_group(id));
  }
  co_return resp;
}

}  // namespace millrace::broker
