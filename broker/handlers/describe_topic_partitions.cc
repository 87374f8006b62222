// DescribeTopicPartitions (key 75), v0: Metadata's topic part, paginated by
// response_partition_limit with a cursor (used by the Java admin client).
// As Kafka: each named topic needs DESCRIBE, else it is answered last with
// TOPIC_AUTHORIZATION_FAILED and no id, before its existence is looked at; all
// topics (none named) lists only those the principal may describe. Every other
// entry carries the principal's operations on the topic.
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/partition_state.h"

namespace millrace::broker {

Task<proto::DescribeTopicPartitionsResponse> handle(RequestContext& ctx, proto::DescribeTopicPartitionsRequest& req) {
  auto& b = ctx.broker;
  auto image = b.metadata.current();  // one snapshot for the whole answer
  proto::DescribeTopicPartitionsResponse resp;
  std::vector<const cluster::TopicImage*> topics;
  std::vector<std::string> unauthorized;
  if (req.topics.empty()) {
    for (const auto& [name, t] : image->topics())
      if (topic_allowed(ctx, *image, acl::AclOperation::kDescribe, name, false)) topics.push_back(&t);
  } else {
    for (const auto& t : req.topics) {
      if (!topic_allowed(ctx, *image, acl::AclOperation::kDescribe, t.name)) {
        unauthorized.push_back(t.name);
      } else if (const auto* info = image->topic(t.name)) {
        topics.push_back(info);
      } else {
        auto& rt = resp.topics.emplace_back();
        rt.name = t.name;
        rt.error_code = ctx.note(proto::ErrorCode::kUnknownTopicOrPartition);
        rt.topic_authorized_operations = operations(ctx, *image, acl::ResourceType::kTopic, t.name);
      }
    }
  }
  auto add_unauthorized = [&] {
    for (auto& name : unauthorized) {
      auto& rt = resp.topics.emplace_back();
      rt.name = std::move(name);
      rt.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
    }
  };
  int32_t budget = req.response_partition_limit > 0 ? req.response_partition_limit : 2000;
  bool started = !req.cursor;
  for (const auto* tp : topics) {
    const auto& t = *tp;
    int32_t first = 0;
    if (!started) {
      if (t.name < req.cursor->topic_name) continue;
      if (t.name == req.cursor->topic_name) first = req.cursor->partition_index;
      started = true;
    }
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    std::copy(t.id.begin(), t.id.end(), rt.topic_id.bytes.begin());
    rt.is_internal = t.internal;
    rt.topic_authorized_operations = operations(ctx, *image, acl::ResourceType::kTopic, t.name);  // always sent
    for (int32_t p = first; p < static_cast<int32_t>(t.partitions.size()); ++p) {
      if (budget == 0) {
        resp.next_cursor.emplace();
        resp.next_cursor->topic_name = t.name;
        resp.next_cursor->partition_index = p;
        add_unauthorized();
        co_return resp;
      }
      --budget;
      auto& rp = rt.partitions.emplace_back();
      // No per-partition error: an offline one has leader -1.
      auto r = report_partition(b.logs, b.node_id, t.partitions[static_cast<size_t>(p)], t.name);
      rp.partition_index = p;
      rp.leader_id = r.leader_id;
      rp.leader_epoch = r.leader_epoch;
      rp.replica_nodes = std::move(r.replica_nodes);
      rp.isr_nodes = std::move(r.isr_nodes);
      rp.offline_replicas = std::move(r.offline_replicas);
      rp.eligible_leader_replicas = std::vector<int32_t>{};
      rp.last_known_elr = std::vector<int32_t>{};
    }
  }
  add_unauthorized();
  co_return resp;
}

}  // namespace millrace::broker
