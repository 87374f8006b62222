// DeleteTopics (key 20), v1-6: by name, or by topic id (v6+). Each deletion
// is a command of the topic table (naming the id it saw, so a topic created
// again meanwhile is not deleted); the answer waits until the partitions are gone.
// ACLs as Kafka's controller: DELETE on the cluster, else on each topic. A
// topic named that the principal may not DESCRIBE gets TOPIC_AUTHORIZATION_FAILED
// before its existence is looked at, and no id; one named by id that it may
// not DESCRIBE gets it without its name (neither is revealed).
#include "broker/handlers/await_callback.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/topic_metadata.h"

namespace millrace::broker {

Task<proto::DeleteTopicsResponse> handle(RequestContext& ctx, proto::DeleteTopicsRequest& req) {
  auto& b = ctx.broker;
  proto::DeleteTopicsResponse resp;
  std::vector<std::pair<std::optional<std::string>, proto::Uuid>> wanted;
  if (ctx.api_version < 6) {
    for (const auto& n : req.topic_names) wanted.emplace_back(n, proto::Uuid{});
  } else {
    for (const auto& t : req.topics) wanted.emplace_back(t.name, t.topic_id);
  }
  auto image = b.metadata.current();
  const bool cluster_delete = cluster_allowed(ctx, *image, acl::AclOperation::kDelete, false);
  auto may = [&](acl::AclOperation op, const std::string& topic) {
    return cluster_delete || topic_allowed(ctx, *image, op, topic);
  };
  for (auto& [name, id] : wanted) {
    auto& r = resp.responses.emplace_back();
    r.topic_id = id;
    r.name = name;
    if (name && !may(acl::AclOperation::kDescribe, *name)) {
      r.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
      continue;
    }
    std::optional<TopicInfo> info;
    if (name)
      info = b.topics.get(*name);
    else
      info = find_topic_by_id(b, id);
    if (!info) {
      r.error_code = ctx.note(name ? proto::ErrorCode::kUnknownTopicOrPartition : proto::ErrorCode::kUnknownTopicId);
      continue;
    }
    if (!may(acl::AclOperation::kDelete, info->name)) {
      if (!name && may(acl::AclOperation::kDescribe, info->name)) r.name = info->name;
      r.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
      continue;
    }
    r.name = info->name;
    std::copy(info->id.begin(), info->id.end(), r.topic_id.bytes.begin());
    std::string message;
    if (info->internal) {
      r.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
      r.error_message = "internal topics cannot be deleted";
    } else if (!b.config.boolean("delete.topic.enable")) {
      r.error_code = ctx.note(proto::ErrorCode::kTopicDeletionDisabled);
    } else {
      auto removed = await_callback<TopicError>(ctx.executor, [&b, &info](auto cb) {
        b.topic_writer->remove_async(info->name, info->id, std::move(cb));
      });
      TopicError e = co_await std::move(removed);
      r.error_code = ctx.note(e.code);
      if (r.error_code) r.error_message = std::move(e.message);
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
