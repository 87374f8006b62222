// SaslHandshake (key 17, v0-1) and SaslAuthenticate (key 36, v0-2): the
// connection's SASL exchange (kafka/sasl_session.h). A failure is answered
// after kSaslFailureDelayMs (a password guesser gets no fast loop), counted in
// millrace_sasl_authentication_failures_total and logged with the peer and
// the mechanism, never the secret.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/handlers/handlers.h"
#include "broker/kafka/sasl_session.h"

namespace millrace::broker {

namespace {
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Task<proto::SaslHandshakeResponse> handle(RequestContext& ctx, proto::SaslHandshakeRequest& req) {
  proto::SaslHandshakeResponse resp;
  auto& session = *ctx.conn.security;
  if (!session.sasl) {
    // Kafka answers a handshake on a listener without SASL as an illegal state.
    resp.error_code = ctx.note(proto::ErrorCode::kIllegalSaslState);
    co_return resp;
  }
  resp.error_code = ctx.note(sasl_handshake(session, req.mechanism, ctx.api_version));
  resp.mechanisms = session.mechanisms;
  co_return resp;
}

Task<proto::SaslAuthenticateResponse> handle(RequestContext& ctx, proto::SaslAuthenticateRequest& req) {
  proto::SaslAuthenticateResponse resp;
  auto& session = *ctx.conn.security;
  if (!session.sasl) {
    resp.error_code = ctx.note(proto::ErrorCode::kIllegalSaslState);
    resp.error_message = "SaslAuthenticate on a listener without SASL";
    co_return resp;
  }
  auto image = ctx.broker.metadata.current();
  const int64_t now = now_ms();
  SaslStep step = sasl_authenticate(session, req.auth_bytes, *image, now);
  if (step.error != 0) {
    ctx.broker.metrics.sasl_authentication_failures().Increment();
    spdlog::info("event=sasl_authentication_failed conn={} peer={} listener={} error=\"{}\" reason=\"{}\"",
                 ctx.conn.id, ctx.conn.peer, ctx.conn.listener, step.message, step.reason);
    boost::asio::steady_timer delay(ctx.executor, std::chrono::milliseconds(kSaslFailureDelayMs));
    boost::system::error_code ec;
    co_await delay.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    resp.error_code = ctx.note(step.error);
    resp.error_message = step.message;
    co_return resp;
  }
  resp.auth_bytes = std::move(step.reply);
  if (step.done) {
    if (ctx.api_version >= 1 && session.expires_at_ms > 0) resp.session_lifetime_ms = session.expires_at_ms - now;
    spdlog::debug("event=sasl_authenticated conn={} peer={} principal=\"{}\"", ctx.conn.id, ctx.conn.peer,
                  session.principal);
  }
  co_return resp;
}

}  // namespace millrace::broker
