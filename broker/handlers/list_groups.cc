// ListGroups (key 16), v0-4, with the v4 states filter. With DESCRIBE on the
// cluster every group is listed; else only the groups the principal may
// DESCRIBE, silently (Kafka's filter: neither is logged as a denial).
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::ListGroupsResponse> handle(RequestContext& ctx, proto::ListGroupsRequest& req) {
  proto::ListGroupsResponse resp;
  auto image = ctx.broker.metadata.current();
  const bool all = cluster_allowed(ctx, *image, acl::AclOperation::kDescribe, false);
  for (const auto& g : ctx.broker.groups.list(req.states_filter)) {
    if (!all && !group_allowed(ctx, *image, acl::AclOperation::kDescribe, g.group_id, false)) continue;
    auto& lg = resp.groups.emplace_back();
    lg.group_id = g.group_id;
    lg.protocol_type = g.protocol_type;
    lg.group_state = g.state;
    lg.group_type = "classic";
  }
  co_return resp;
}

}  // namespace millrace::broker
