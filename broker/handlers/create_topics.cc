// CreateTopics (key 19), v2-7: validateOnly, configs by Kafka's names,
// num_partitions -1 = num.partitions, replication factor -1
// (default.replication.factor) or 1 until partitions are replicated. Each
// creation goes through the controller's metadata log (topics/topic_writer.h);
// the answer waits until this node has applied it and its partitions exist.
// CREATE on the cluster or on the topic; DESCRIBE_CONFIGS on it to be told its
// partitions, replication factor and configs.
#include "broker/handlers/await_callback.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::CreateTopicsResponse> handle(RequestContext& ctx, proto::CreateTopicsRequest& req) {
  auto& b = ctx.broker;
  proto::CreateTopicsResponse resp;
  auto image = b.metadata.current();
  // CREATE on the cluster, or else on each topic (Kafka's rule).
  const bool cluster_create = cluster_allowed(ctx, *image, acl::AclOperation::kCreate, false);
  for (const auto& t : req.topics) {
    auto& r = resp.topics.emplace_back();
    r.name = t.name;
    if (!cluster_create && !topic_allowed(ctx, *image, acl::AclOperation::kCreate, t.name)) {
      r.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
      r.error_message = "Authorization failed.";
      continue;
    }
    int32_t partitions = t.num_partitions == -1 ? static_cast<int32_t>(b.config.integer("num.partitions"))
                                                : t.num_partitions;
    if (!t.assignments.empty()) partitions = static_cast<int32_t>(t.assignments.size());
    std::string message;
    int16_t code = 0;
    {
      std::map<std::string, std::string> configs;
      for (const auto& c : t.configs)
        if (c.value) configs[c.name] = *c.value;
      // Every key Kafka 4.1 accepts, with Kafka's rules and messages (log_config.h).
      if (auto checked = storage::LogConfig{}.with_overrides(configs); !checked.ok()) {
        code = proto::code(proto::ErrorCode::kInvalidConfig);
        message = checked.status().message();
      } else {
        // A named local: g++ 12 destroys non-trivial temporaries of a co_await operand twice.
        auto created = await_callback<TopicError>(ctx.executor, [&b, &t, partitions, configs, &req](auto cb) {
          b.topic_writer->create_async(t.name, partitions, t.replication_factor, configs, req.validate_only, std::move(cb));
        });
        TopicError e = co_await std::move(created);
        code = e.code;
        message = std::move(e.message);
      }
    }
    r.error_code = ctx.note(code);
    if (code) {
      r.error_message = message;
      continue;
    }
    if (auto info = b.topics.get(t.name)) std::copy(info->id.begin(), info->id.end(), r.topic_id.bytes.begin());
    r.configs.emplace();
    // The created topic's details only with DESCRIBE_CONFIGS on it (Kafka's
    // controller; not logged): else topic_config_error_code says why.
    if (!topic_allowed(ctx, *image, acl::AclOperation::kDescribeConfigs, t.name, false)) {
      r.topic_config_error_code = proto::code(proto::ErrorCode::kTopicAuthorizationFailed);
      continue;
    }
    r.num_partitions = partitions;
    r.replication_factor = 1;
    for (const auto& c : t.configs) {
      if (!c.value) continue;
      auto& rc = r.configs->emplace_back();
      rc.name = c.name;
      rc.value = c.value;
      rc.config_source = 1;  // DYNAMIC_TOPIC_CONFIG
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
