// CreatePartitions (key 37), v0-3: grow a topic's partition count.
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::CreatePartitionsResponse> handle(RequestContext& ctx, proto::CreatePartitionsRequest& req) {
  proto::CreatePartitionsResponse resp;
  for (const auto& t : req.topics) {
    auto& r = resp.results.emplace_back();
    r.name = t.name;
    std::string message;
    r.error_code = ctx.note(ctx.broker.topics.add_partitions(t.name, t.count, req.validate_only, message));
    if (r.error_code) r.error_message = message;
  }
  co_return resp;
}

}  // namespace millrace::broker
