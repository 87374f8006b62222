// JoinGroup (key 11), v0-9: waits (without blocking the thread) until the
// coordinator completes the rebalance. v4+ first joins get MEMBER_ID_REQUIRED.
#include "broker/handlers/await_callback.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "storage/log.h"

namespace millrace::broker {

Task<proto::JoinGroupResponse> handle(RequestContext& ctx, proto::JoinGroupRequest& req) {
  if (auto image = ctx.broker.metadata.current();
      !group_allowed(ctx, *image, acl::AclOperation::kRead, req.group_id)) {
    proto::JoinGroupResponse denied;
    denied.error_code = ctx.note(proto::ErrorCode::kGroupAuthorizationFailed);
    co_return denied;
  }
  coordination::JoinRequest j;
  j.group_id = req.group_id;
  j.member_id = req.member_id;
  j.group_instance_id = req.group_instance_id;
  j.client_id = ctx.client_id;
  j.client_host = "/" + ctx.conn.peer.substr(0, ctx.conn.peer.rfind(':'));
  j.session_timeout_ms = req.session_timeout_ms;
  j.rebalance_timeout_ms = ctx.api_version >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  j.protocol_type = req.protocol_type;
  for (auto& p : req.protocols) j.protocols.push_back({p.name, std::move(p.metadata)});
  j.require_known_member_id = ctx.api_version >= 4;
  auto& groups = ctx.broker.groups;
  // The awaitable is built as a named local: g++ 12 destroys non-trivial
  // temporaries of a co_await operand twice.
  auto join = await_callback<coordination::JoinResult>(ctx.executor, [&groups, j = std::move(j)](auto cb) {
    groups.join(j, storage::system_clock_ms(), std::move(cb));
  });
  auto r = co_await std::move(join);
  proto::JoinGroupResponse resp;
  resp.error_code = ctx.note(r.error);
  resp.generation_id = r.generation_id;
  if (!r.error) resp.protocol_type = r.protocol_type;
  resp.protocol_name = r.protocol_name;
  if (ctx.api_version < 7 && !resp.protocol_name) resp.protocol_name = "";
  resp.leader = r.leader;
  resp.member_id = r.member_id;
  for (auto& m : r.members) {
    proto::JoinGroupResponse::JoinGroupResponseMember rm;
    rm.member_id = m.member_id;
    rm.group_instance_id = m.group_instance_id;
    rm.metadata = std::move(m.metadata);
    resp.members.push_back(std::move(rm));
  }
  co_return resp;
}

}  // namespace millrace::broker
