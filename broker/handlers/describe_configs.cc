// DescribeConfigs (key 32), v1-4: topic resources (type 2) with every
// effective topic config, marking overrides as DYNAMIC_TOPIC_CONFIG (1) and
// the rest DEFAULT_CONFIG (5); broker resources (type 4) list the broker's
// static config, read-only (STATIC_BROKER_CONFIG, 4). Each resource needs
// DESCRIBE_CONFIGS on its topic, or on the cluster for broker resources
// (Kafka's rule), else it alone is answered with the authorization error and
// no configs, before its existence is looked at.
#include <algorithm>

#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

namespace {
constexpr int8_t kTopic = 2, kBroker = 4;
constexpr int8_t kDynamicTopic = 1, kStaticBroker = 4, kDefault = 5;
}  // namespace

Task<proto::DescribeConfigsResponse> handle(RequestContext& ctx, proto::DescribeConfigsRequest& req) {
  auto& b = ctx.broker;
  proto::DescribeConfigsResponse resp;
  auto image = b.metadata.current();
  std::vector<proto::DescribeConfigsResponse::DescribeConfigsResult> denials;  // answered last, as Kafka
  for (const auto& res : req.resources) {
    if (int16_t denied = config_error(ctx, *image, acl::AclOperation::kDescribeConfigs, res.resource_type,
                                      res.resource_name)) {
      auto& r = denials.emplace_back();
      r.resource_type = res.resource_type;
      r.resource_name = res.resource_name;
      r.error_code = ctx.note(denied);
      r.error_message = authorization_message(denied);
      continue;
    }
    auto& r = resp.results.emplace_back();
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    auto wanted = [&](const std::string& name) {
      return !res.configuration_keys ||
             std::find(res.configuration_keys->begin(), res.configuration_keys->end(), name) !=
                 res.configuration_keys->end();
    };
    auto add = [&](const std::string& name, const std::string& value, int8_t source, bool read_only) {
      if (!wanted(name)) return;
      auto& c = r.configs.emplace_back();
      c.name = name;
      c.value = value;
      c.read_only = read_only;
      c.is_default = source == kDefault;
      c.config_source = source;
      c.is_sensitive = false;
    };
    if (res.resource_type == kTopic) {
      auto info = b.topics.get(res.resource_name);
      if (!info) {
        r.error_code = ctx.note(proto::ErrorCode::kUnknownTopicOrPartition);
        r.error_message = "topic '" + res.resource_name + "' does not exist";
        continue;
      }
      for (const auto& [name, value] : b.logs.topic_config(res.resource_name).to_map())
        add(name, value, info->configs.count(name) ? kDynamicTopic : kDefault, false);
    } else if (res.resource_type == kBroker) {
      if (!res.resource_name.empty() && res.resource_name != std::to_string(b.node_id)) {
        r.error_code = ctx.note(proto::ErrorCode::kInvalidRequest);
        r.error_message = "this is broker " + std::to_string(b.node_id);
        continue;
      }
      for (const auto& [name, value] : b.config.values()) add(name, value, kStaticBroker, true);
    } else {
      r.error_code = ctx.note(proto::ErrorCode::kInvalidRequest);
      r.error_message = "resource type " + std::to_string(res.resource_type) + " is not supported";
    }
  }
  for (auto& r : denials) resp.results.push_back(std::move(r));
  co_return resp;
}

}  // namespace millrace::broker
