// IncrementalAlterConfigs (key 44), v0-1: SET (0) and DELETE (1) per topic
// config; APPEND (2) / SUBTRACT (3) apply to the list-valued cleanup.policy.
// The change is a command of the topic table (cluster/topics); the answer
// waits until it is applied to the partitions.
#include <algorithm>

#include "broker/handlers/authorize.h"
#include "broker/handlers/await_callback.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

namespace {
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    auto item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}
std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}
}  // namespace

Task<proto::IncrementalAlterConfigsResponse> handle(RequestContext& ctx,
                                                    proto::IncrementalAlterConfigsRequest& req) {
  auto& b = ctx.broker;
  proto::IncrementalAlterConfigsResponse resp;
  auto image = b.metadata.current();
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
    // As Kafka: names and SET values are checked before the topic's existence.
    std::map<std::string, std::string> set_values;
    std::string config_error;
    for (const auto& c : res.configs) {
      if (!storage::LogConfig::is_known_name(c.name)) {
        config_error = "Unknown topic config name: " + c.name;
        break;
      }
      if (c.config_operation == 0) set_values[c.name] = c.value.value_or("");
    }
    if (config_error.empty())
      if (auto checked = storage::LogConfig{}.with_overrides(set_values); !checked.ok())
        config_error = checked.status().message();
    if (!config_error.empty()) {
      r.error_code = ctx.note(proto::ErrorCode::kInvalidConfig);
      r.error_message = config_error;
      continue;
    }
    auto info = b.topics.get(res.resource_name);
    if (!info) {
      r.error_code = ctx.note(proto::ErrorCode::kUnknownTopicOrPartition);
      r.error_message = "The topic '" + res.resource_name + "' does not exist.";
      continue;
    }
    auto effective = b.logs.topic_config(res.resource_name).to_map();
    std::map<std::string, std::optional<std::string>> changes;
    bool bad = false;
    for (const auto& c : res.configs) {
      switch (c.config_operation) {
        case 0: changes[c.name] = c.value.value_or(""); break;
        case 1: changes[c.name] = std::nullopt; break;
        case 2:
        case 3: {
          auto list = split(effective.count(c.name) ? effective[c.name] : "");
          for (const auto& item : split(c.value.value_or(""))) {
            auto it = std::find(list.begin(), list.end(), item);
            if (c.config_operation == 2 && it == list.end()) list.push_back(item);
            if (c.config_operation == 3 && it != list.end()) list.erase(it);
          }
          changes[c.name] = join(list);
          break;
        }
        default:
          bad = true;
      }
    }
    if (bad) {
      r.error_code = ctx.note(proto::ErrorCode::kInvalidRequest);
      r.error_message = "config_operation must be 0 (SET), 1 (DELETE), 2 (APPEND) or 3 (SUBTRACT)";
      continue;
    }
    auto altered = await_callback<TopicError>(ctx.executor, [&b, &res, &changes, &req](auto cb) {
      b.topic_writer->alter_configs_async(res.resource_name, changes, false, req.validate_only, std::move(cb));
    });
    TopicError e = co_await std::move(altered);
    r.error_code = ctx.note(e.code);
    if (r.error_code) r.error_message = std::move(e.message);
  }
  co_return resp;
}

}  // namespace millrace::broker
