// AlterConfigs (key 33), v0-2: replaces a topic's overrides with the given
// set (Kafka's non-incremental semantics). Broker configs are static here.
// The change is a command of the topic table (cluster/topics); the answer
// waits until it is applied to the partitions.
#include "broker/handlers/authorize.h"
#include "broker/handlers/await_callback.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::AlterConfigsResponse> handle(RequestContext& ctx, proto::AlterConfigsRequest& req) {
  proto::AlterConfigsResponse resp;
  auto image = ctx.broker.metadata.current();
  for (const auto& res : req.resources) {
    auto& r = resp.responses.emplace_back();
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    // ALTER_CONFIGS on the topic, or on the cluster for broker resources,
    // before anything else is checked (Kafka's controller).
    if (int16_t denied = config_error(ctx, *image, acl::AclOperation::kAlterConfigs, res.resource_type,
                                      res.resource_name)) {
      r.error_code = ctx.note(denied);
      r.error_message = authorization_message(denied);
      continue;
    }
    if (res.resource_type != 2) {
      r.error_code = ctx.note(proto::ErrorCode::kInvalidRequest);
      r.error_message = "only topic configs can be altered; broker configs come from the config file";
      continue;
    }
    std::map<std::string, std::optional<std::string>> changes;
    std::map<std::string, std::string> values;
    for (const auto& c : res.configs) {
      changes[c.name] = c.value;
      if (c.value) values[c.name] = *c.value;
    }
    // As Kafka: the configs are checked before the topic's existence.
    if (auto checked = storage::LogConfig{}.with_overrides(values); !checked.ok()) {
      r.error_code = ctx.note(proto::ErrorCode::kInvalidConfig);
      r.error_message = checked.status().message();
      continue;
    }
    auto altered = await_callback<TopicError>(ctx.executor, [&ctx, &res, &changes, &req](auto cb) {
      ctx.broker.topic_writer->alter_configs_async(res.resource_name, changes, true, req.validate_only, std::move(cb));
    });
    TopicError e = co_await std::move(altered);
    r.error_code = ctx.note(e.code);
    if (r.error_code) r.error_message = std::move(e.message);
  }
  co_return resp;
}

}  // namespace millrace::broker
