// DescribeGroups (key 15), v0-5. An unknown group is described as "Dead"
// with no error, as Kafka does. Each group needs DESCRIBE on it, else it alone
// gets GROUP_AUTHORIZATION_FAILED; include_authorized_operations (v3+) reports
// the principal's operations on each group described without error.
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::DescribeGroupsResponse> handle(RequestContext& ctx, proto::DescribeGroupsRequest& req) {
  proto::DescribeGroupsResponse resp;
  auto image = ctx.broker.metadata.current();
  std::vector<std::string> allowed_ids;  // described after the denials, as Kafka answers
  for (const auto& id : req.groups) {
    if (group_allowed(ctx, *image, acl::AclOperation::kDescribe, id)) {
      allowed_ids.push_back(id);
      continue;
    }
    auto& g = resp.groups.emplace_back();
    g.group_id = id;
    g.error_code = ctx.note(proto::ErrorCode::kGroupAuthorizationFailed);
  }
  for (const auto& id : allowed_ids) {
    auto d = ctx.broker.groups.describe(id);
    auto& g = resp.groups.emplace_back();
    g.error_code = ctx.note(d.error);
    g.group_id = d.group_id;
    g.group_state = d.state;
    g.protocol_type = d.protocol_type;
    g.protocol_data = d.protocol;
    if (req.include_authorized_operations && g.error_code == 0)
      g.authorized_operations = operations(ctx, *image, acl::ResourceType::kGroup, id);
    for (auto& m : d.members) {
      auto& rm = g.members.emplace_back();
      rm.member_id = m.member_id;
      rm.group_instance_id = m.group_instance_id;
      rm.client_id = m.client_id;
      rm.client_host = m.client_host;
      rm.member_metadata = std::move(m.metadata);
      rm.member_assignment = std::move(m.assignment);
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
