// Heartbeat (key 12), v0-4.
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "storage/log.h"

namespace millrace::broker {

Task<proto::HeartbeatResponse> handle(RequestContext& ctx, proto::HeartbeatRequest& req) {
  if (auto image = ctx.broker.metadata.current();
      !group_allowed(ctx, *image, acl::AclOperation::kRead, req.group_id)) {
    proto::HeartbeatResponse denied;
    denied.error_code = ctx.note(proto::ErrorCode::kGroupAuthorizationFailed);
    co_return denied;
  }
  proto::HeartbeatResponse resp;
  resp.error_code = ctx.note(ctx.broker.groups.heartbeat(req.group_id, req.member_id, req.generation_id,
                                                          req.group_instance_id, storage::system_clock_ms()));
  co_return resp;
}

}  // namespace millrace::broker
