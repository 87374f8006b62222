// LeaveGroup (key 13), v0-5: one member (v0-2) or a batch of members (v3+,
// by member id or group.instance.id).
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "storage/log.h"

namespace millrace::broker {

Task<proto::LeaveGroupResponse> handle(RequestContext& ctx, proto::LeaveGroupRequest& req) {
  if (auto image = ctx.broker.metadata.current();
      !group_allowed(ctx, *image, acl::AclOperation::kRead, req.group_id)) {
    proto::LeaveGroupResponse denied;
    denied.error_code = ctx.note(proto::ErrorCode::kGroupAuthorizationFailed);
    co_return denied;
  }
  std::vector<coordination::LeaveMember> members;
  if (ctx.api_version < 3) {
    members.push_back({req.member_id, std::nullopt});
  } else {
    for (const auto& m : req.members) members.push_back({m.member_id, m.group_instance_id});
  }
  auto errors = ctx.broker.groups.leave(req.group_id, members, storage::system_clock_ms());
  proto::LeaveGroupResponse resp;
  resp.error_code = ctx.note(errors[0]);
  if (ctx.api_version >= 3) {
    resp.error_code = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      proto::LeaveGroupResponse::MemberResponse mr;
      mr.member_id = members[i].member_id;
      mr.group_instance_id = members[i].group_instance_id;
      mr.error_code = ctx.note(errors[i + 1]);
      resp.members.push_back(std::move(mr));
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
