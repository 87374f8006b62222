// InitProducerId (key 22), v0-4: a fresh producer id (epoch 0) for an
// idempotent producer; ids come from ProducerIds and are never reused. A
// transactional id is refused (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, with a
// log line) until transactions exist.
#include <spdlog/spdlog.h>

#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::InitProducerIdResponse> handle(RequestContext& ctx, proto::InitProducerIdRequest& req) {
  proto::InitProducerIdResponse resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  if (req.transactional_id && !req.transactional_id->empty()) {
    spdlog::info("event=transactions_refused client_id=\"{}\" transactional_id=\"{}\"", ctx.client_id,
                 *req.transactional_id);
    resp.error_code = ctx.note(proto::ErrorCode::kTransactionalIdAuthorizationFailed);
    co_return resp;
  }
  // An idempotent producer: IDEMPOTENT_WRITE on the cluster, or WRITE on any topic (Kafka 4.1).
  if (auto image = ctx.broker.metadata.current();
      ctx.broker.authz && !cluster_allowed(ctx, *image, acl::AclOperation::kIdempotentWrite, false) &&
      !ctx.broker.authz->allow_any(*image, *ctx.conn.security, acl::AclOperation::kWrite, acl::ResourceType::kTopic)) {
    cluster_allowed(ctx, *image, acl::AclOperation::kIdempotentWrite);  // logs and counts the denial
    resp.error_code = ctx.note(proto::ErrorCode::kClusterAuthorizationFailed);
    co_return resp;
  }
  int64_t id = ctx.broker.producer_ids.next();
  if (id < 0) {
    resp.error_code = ctx.note(proto::ErrorCode::kKafkaStorageError);
    co_return resp;
  }
  resp.producer_id = id;
  resp.producer_epoch = 0;
  co_return resp;
}

}  // namespace millrace::broker
