// ListGroups (key 16), v0-4, with the v4 states filter.
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::ListGroupsResponse> handle(RequestContext& ctx, proto::ListGroupsRequest& req) {
  proto::ListGroupsResponse resp;
  for (const auto& g : ctx.broker.groups.list(req.states_filter)) {
    auto& lg = resp.groups.emplace_back();
    lg.group_id = g.group_id;
    lg.protocol_type = g.protocol_type;
    lg.group_state = g.state;
    lg.group_type = "classic";
  }
  co_return resp;
}

}  // namespace millrace::broker
