// InitProducerId (key 22), v0-4: a fresh producer id (epoch 0) for an
// idempotent producer; ids come from ProducerIds and are never reused. A
// transactional id is refused (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, with a
// log line) until transactions exist.
#include <spdlog/spdlog.h>

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
