// ListGroups (key 16), v0-5, with the v4 states filter and the v5 types
// filter (every group here is "classic": a filter without it, case aside, lists
// none, as Kafka's coordinator answers; kafka-consumer-groups.sh --list --type
// shows the type). With DESCRIBE on the
// cluster every group is listed; else only the groups the principal may
// DESCRIBE, silently (Kafka's filter: neither is logged as a denial).
#include <algorithm>
#include <cctype>

#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::ListGroupsResponse> handle(RequestContext& ctx, proto::ListGroupsRequest& req) {
  proto::ListGroupsResponse resp;
  auto image = ctx.broker.metadata.current();
  const bool all = cluster_allowed(ctx, *image, acl::AclOperation::kDescribe, false);
  const bool classic = req.types_filter.empty() ||
                       std::any_of(req.types_filter.begin(), req.types_filter.end(), [](std::string t) {
                         std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
                         return t == "classic";
                       });
  if (!classic) co_return resp;
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
