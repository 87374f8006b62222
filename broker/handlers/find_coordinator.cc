// FindCoordinator (key 10), v0-4: a group's coordinator is the leader of the
// __consumer_offsets partition its id hashes to (Kafka's formula,
// coordination/offsets_partition.h), as the metadata image has it; no leader
// (offline, or the topic not there yet) is COORDINATOR_NOT_AVAILABLE, which
// clients retry. Key type
// 1 (transaction coordinator) is refused until transactions exist, so that a
// transactional client fails at once, not after retrying until its own
// timeout. The code must be one the clients treat as fatal: librdkafka's
// FindCoordinator and InitProducerId handlers (rd_kafka_idemp_check_error)
// retry everything but TRANSACTIONAL_ID_AUTHORIZATION_FAILED, CLUSTER_
// AUTHORIZATION_FAILED and INVALID_TRANSACTION_TIMEOUT (measured: INVALID_REQUEST
// and UNSUPPORTED_FOR_MESSAGE_FORMAT are retried every 500 ms for 30 s); the
// Java client fails on any of them. Of the three, the transactional id one
// is the closest, and error_message says what is really meant (librdkafka
// shows it; tests/interop/compat: transactional_client_fails_fast).
#include "broker/groups/offsets_store.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/partition_state.h"
#include "coordination/offsets_partition.h"

namespace millrace::broker {

namespace {

struct Found {
  int16_t error = 0;
  std::optional<std::string> message;
  int32_t node_id = -1;
  std::string host;
  int32_t port = -1;
};

Found coordinator_of(RequestContext& ctx, const cluster::MetadataImage& image, const std::string& group) {
  const auto* offsets = image.topic(kOffsetsTopic);
  const auto& b = ctx.broker;
  if (offsets && !offsets->partitions.empty()) {
    int32_t p = coordination::offsets_partition_for(group, static_cast<int32_t>(offsets->partitions.size()));
    auto r = report_partition(b.logs, b.node_id, offsets->partitions[static_cast<size_t>(p)], kOffsetsTopic);
    if (const auto* leader = r.leader_id >= 0 ? image.broker(r.leader_id) : nullptr)
      if (auto ep = leader->endpoint(ctx.conn.listener)) return {0, std::nullopt, leader->id, ep->host, ep->port};
  }
  return {ctx.note(proto::ErrorCode::kCoordinatorNotAvailable), "the group's __consumer_offsets partition has no leader",
          -1, "", -1};
}

}  // namespace

Task<proto::FindCoordinatorResponse> handle(RequestContext& ctx, proto::FindCoordinatorRequest& req) {
  auto image = ctx.broker.metadata.current();
  proto::FindCoordinatorResponse resp;
  auto find = [&](const std::string& key) -> Found {
    if (req.key_type != 0)
      return {ctx.note(proto::ErrorCode::kTransactionalIdAuthorizationFailed),
              "transactions are not supported by Millrace yet", -1, "", -1};
    if (!group_allowed(ctx, *image, acl::AclOperation::kDescribe, key))
      return {ctx.note(proto::ErrorCode::kGroupAuthorizationFailed), "Not authorized to describe group " + key, -1, "",
              -1};
    return coordinator_of(ctx, *image, key);
  };
  if (ctx.api_version < 4) {
    auto f = find(req.key);
    resp.error_code = f.error;
    resp.error_message = f.message;
    resp.node_id = f.node_id;
    resp.host = f.host;
    resp.port = f.port;
    co_return resp;
  }
  for (const auto& key : req.coordinator_keys) {
    auto f = find(key);
    proto::FindCoordinatorResponse::Coordinator c;
    c.key = key;
    c.error_code = f.error;
    c.error_message = f.message;
    c.node_id = f.node_id;
    c.host = f.host;
    c.port = f.port;
    resp.coordinators.push_back(std::move(c));
  }
  co_return resp;
}

}  // namespace millrace::broker
