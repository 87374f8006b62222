// FindCoordinator (key 10), v0-4: this node coordinates every group. Key type
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
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::FindCoordinatorResponse> handle(RequestContext& ctx, proto::FindCoordinatorRequest& req) {
  auto& b = ctx.broker;
  proto::FindCoordinatorResponse resp;
  int16_t error = 0;
  std::optional<std::string> message;
  if (req.key_type != 0) {
    error = ctx.note(proto::ErrorCode::kTransactionalIdAuthorizationFailed);
    message = "transactions are not supported by Millrace yet";
  }
  if (ctx.api_version < 4) {
    resp.error_code = error;
    resp.error_message = message;
    resp.node_id = error ? -1 : b.node_id;
    resp.host = error ? "" : b.advertised_host;
    resp.port = error ? -1 : b.advertised_port;
    co_return resp;
  }
  for (const auto& key : req.coordinator_keys) {
    proto::FindCoordinatorResponse::Coordinator c;
    c.key = key;
    c.error_code = error;
    c.error_message = message;
    c.node_id = error ? -1 : b.node_id;
    c.host = error ? "" : b.advertised_host;
    c.port = error ? -1 : b.advertised_port;
    resp.coordinators.push_back(std::move(c));
  }
  co_return resp;
}

}  // namespace millrace::broker
