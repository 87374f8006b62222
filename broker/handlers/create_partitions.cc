// CreatePartitions (key 37), v0-3: grow a topic's partition count; the
// answer waits until the topic table's command is applied and the new
// partitions exist (cluster/topics). Each topic needs ALTER on it, else it
// alone gets TOPIC_AUTHORIZATION_FAILED (Kafka's controller).
#include "broker/handlers/authorize.h"
#include "broker/handlers/await_callback.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::CreatePartitionsResponse> handle(RequestContext& ctx, proto::CreatePartitionsRequest& req) {
  proto::CreatePartitionsResponse resp;
  auto image = ctx.broker.metadata.current();
  for (const auto& t : req.topics) {
    auto& r = resp.results.emplace_back();
    r.name = t.name;
    if (!topic_allowed(ctx, *image, acl::AclOperation::kAlter, t.name)) {
      r.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
      continue;
    }
    auto added = await_callback<TopicError>(ctx.executor, [&ctx, &t, &req](auto cb) {
      ctx.broker.topic_writer->add_partitions_async(t.name, t.count, req.validate_only, std::move(cb));
    });
    TopicError e = co_await std::move(added);
    r.error_code = ctx.note(e.code);
    if (r.error_code) r.error_message = std::move(e.message);
  }
  co_return resp;
}

}  // namespace millrace::broker
