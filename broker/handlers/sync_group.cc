// SyncGroup (key 14), v0-5: followers wait for the leader's assignments.
#include "broker/handlers/await_callback.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "storage/log.h"

namespace millrace::broker {

Task<proto::SyncGroupResponse> handle(RequestContext& ctx, proto::SyncGroupRequest& req) {
  if (auto image = ctx.broker.metadata.current();
      !group_allowed(ctx, *image, acl::AclOperation::kRead, req.group_id)) {
    proto::SyncGroupResponse denied;
    denied.error_code = ctx.note(proto::ErrorCode::kGroupAuthorizationFailed);
    co_return denied;
  }
  coordination::SyncRequest s;
  s.group_id = req.group_id;
  s.member_id = req.member_id;
  s.generation_id = req.generation_id;
  s.group_instance_id = req.group_instance_id;
  for (auto& a : req.assignments) s.assignments.emplace_back(a.member_id, std::move(a.assignment));
  auto& groups = ctx.broker.groups;
  // Named local awaitable: g++ 12 destroys non-trivial co_await temporaries twice.
  auto sync = await_callback<coordination::SyncResult>(ctx.executor, [&groups, s = std::move(s)](auto cb) {
    groups.sync(s, storage::system_clock_ms(), std::move(cb));
  });
  auto r = co_await std::move(sync);
  proto::SyncGroupResponse resp;
  resp.error_code = ctx.note(r.error);
  if (!r.error) {
    resp.protocol_type = r.protocol_type;
    resp.protocol_name = r.protocol_name;
  }
  resp.assignment = std::move(r.assignment);
  co_return resp;
}

}  // namespace millrace::broker
