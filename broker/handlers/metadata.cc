// Metadata (key 3), v0-12: brokers, controller, topics and their partitions'
// leaders and epochs as the metadata image has them (cluster/metadata/), with
// this node's offline replicas overlaid (leader -1, LEADER_NOT_AVAILABLE,
// partition_state.h). Unknown topics are created when auto.create.topics.enable
// and the request allows it (v4+ flag; always for older versions).
#include <spdlog/spdlog.h>

#include "broker/handlers/authorize.h"
#include "broker/handlers/await_callback.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/partition_state.h"

namespace millrace::broker {

Task<proto::MetadataResponse> handle(RequestContext& ctx, proto::MetadataRequest& req) {
  auto& b = ctx.broker;
  auto image = b.metadata.current();  // one snapshot for the whole answer
  proto::MetadataResponse resp;
  for (const auto& br : image->brokers()) {
    if (br.fenced) continue;
    auto ep = br.endpoint(ctx.conn.listener);  // the listener the request came in on
    if (!ep) continue;
    proto::MetadataResponse::MetadataResponseBroker mb;
    mb.node_id = br.id;
    mb.host = ep->host;
    mb.port = ep->port;
    mb.rack = br.rack;
    resp.brokers.push_back(std::move(mb));
  }
  resp.cluster_id = image->cluster_id();
  resp.controller_id = image->controller_id();
  // DESCRIBE on the cluster, else 0; without an authorizer every operation (as Kafka).
  if (ctx.api_version >= 8 && ctx.api_version <= 10 && req.include_cluster_authorized_operations)
    resp.cluster_authorized_operations = cluster_operations(ctx, *image);

  auto add_topic = [&](const cluster::TopicImage& t) {
    proto::MetadataResponse::MetadataResponseTopic mt;
    mt.name = t.name;
    std::copy(t.id.begin(), t.id.end(), mt.topic_id.bytes.begin());
    mt.is_internal = t.internal;
    if (ctx.api_version >= 8 && req.include_topic_authorized_operations)
      mt.topic_authorized_operations = operations(ctx, *image, acl::ResourceType::kTopic, t.name);
    for (const auto& pi : t.partitions) {
      proto::MetadataResponse::MetadataResponseTopic::MetadataResponsePartition mp;
      auto r = report_partition(b.logs, b.node_id, pi, t.name);  // an offline partition: leader -1 (partition_state.h)
      mp.error_code = r.error_code ? ctx.note(r.error_code) : r.error_code;
      mp.partition_index = pi.index;
      mp.leader_id = r.leader_id;
      mp.leader_epoch = r.leader_epoch;
      mp.replica_nodes = std::move(r.replica_nodes);
      mp.isr_nodes = std::move(r.isr_nodes);
      mp.offline_replicas = std::move(r.offline_replicas);
      mt.partitions.push_back(std::move(mp));
    }
    resp.topics.push_back(std::move(mt));
  };

  bool all = !req.topics.has_value() || (ctx.api_version == 0 && req.topics->empty());
  if (all) {
    // Only the topics the principal may describe, silently (Kafka's filter).
    for (const auto& [name, t] : image->topics())
      if (topic_allowed(ctx, *image, acl::AclOperation::kDescribe, name, false)) add_topic(t);
    co_return resp;
  }
  bool may_create = b.config.boolean("auto.create.topics.enable") &&
                    (ctx.api_version < 4 || req.allow_auto_topic_creation);
  for (const auto& rt : *req.topics) {
    const cluster::TopicImage* t = nullptr;
    if (!rt.name && !rt.topic_id.is_zero()) {
      t = image->topic(rt.topic_id.bytes);
      if (!t) {
        proto::MetadataResponse::MetadataResponseTopic mt;
        mt.name = std::nullopt;
        mt.topic_id = rt.topic_id;
        mt.error_code = ctx.note(proto::ErrorCode::kUnknownTopicId);
        resp.topics.push_back(std::move(mt));
        continue;
      }
    } else {
      std::string name = rt.name.value_or("");
      t = image->topic(name);
      // As Kafka: DESCRIBE first; a topic to auto-create needs CREATE on the
      // cluster or on the topic too (CREATE alone does not describe).
      if (!topic_allowed(ctx, *image, acl::AclOperation::kDescribe, name) ||
          (!t && may_create && !cluster_allowed(ctx, *image, acl::AclOperation::kCreate, false) &&
           !topic_allowed(ctx, *image, acl::AclOperation::kCreate, name))) {
        proto::MetadataResponse::MetadataResponseTopic mt;
        mt.name = name;
        mt.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
        resp.topics.push_back(std::move(mt));
        continue;
      }
      if (!t) {
        std::string why;
        int16_t code = proto::code(proto::ErrorCode::kUnknownTopicOrPartition);
        if (!TopicRegistry::valid_topic_name(name, why)) {
          code = proto::code(proto::ErrorCode::kInvalidTopicException);
        } else if (may_create) {
          // Through the controller's log like CreateTopics (forwarded when
          // this node is not the active controller).
          auto created = await_callback<TopicError>(ctx.executor, [&b, &name](auto cb) {
            b.topic_writer->create_async(name, static_cast<int32_t>(b.config.integer("num.partitions")), -1, {}, false,
                                         std::move(cb));
          });
          TopicError e = co_await std::move(created);
          code = e.code;
          why = std::move(e.message);
          if (code == 0 || code == proto::code(proto::ErrorCode::kTopicAlreadyExists)) {
            spdlog::info("event=topic_auto_created topic={} client_id=\"{}\"", name, ctx.client_id);
            image = b.metadata.current();  // published before the creation was answered
            t = image->topic(name);
          }
        }
        if (!t) {
          proto::MetadataResponse::MetadataResponseTopic mt;
          mt.name = name;
          mt.error_code = ctx.note(code);
          resp.topics.push_back(std::move(mt));
          continue;
        }
      }
    }
    add_topic(*t);
  }
  co_return resp;
}

}  // namespace millrace::broker
