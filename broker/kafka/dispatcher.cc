#include "broker/kafka/dispatcher.h"

#include <utility>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include "broker/controller/controller_quorum.h"
#include "broker/handlers/await_callback.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka/api_table.h"
#include "broker/kafka/authz.h"
#include "broker/kafka/request_context.h"
#include "broker/kafka/request_decode.h"
#include "broker/kafka/sasl_session.h"
#include "broker/kafka/staged.h"
#include "broker/kafka/unsupported_version.h"
#include "protocol/generated/api_keys.h"
#include "protocol/request_frame.h"
#include "protocol/wire/reader.h"

namespace millrace::broker {

namespace asio = boost::asio;

namespace {

// A handler's answer: the body now, or stage 2 that returns it (Staged<>).
struct HandlerResult {
  bool handled = false;
  std::optional<proto::ResponseBody> body;
  std::optional<asio::awaitable<proto::ResponseBody>> rest;
};

template <typename Body>
asio::awaitable<proto::ResponseBody> as_response_body(asio::awaitable<Body> rest) {
  co_return proto::ResponseBody(co_await std::move(rest));
}

template <typename Req>
asio::awaitable<HandlerResult> call_handler(RequestContext& ctx, Req& req) {
  HandlerResult out;
  if constexpr (requires { handle(ctx, req); }) {
    auto answer = co_await handle(ctx, req);
    out.handled = true;
    if constexpr (kIsStaged<decltype(answer)>) {
      if (answer.rest)
        out.rest.emplace(as_response_body(std::move(*answer.rest)));
      else
        out.body.emplace(std::move(answer.body));
    } else {
      out.body.emplace(std::move(answer));
    }
  }
  co_return out;
}

Response encode(int32_t correlation_id, const proto::ResponseBody& body, int16_t version,
                std::vector<std::shared_ptr<const void>>& keep_alive) {
  Response r;
  wire::Writer w(r.bytes);
  proto::encode_response_frame(correlation_id, body, version, w);
  std::shared_ptr<const void> hold;
  if (!keep_alive.empty())
    hold = std::make_shared<std::vector<std::shared_ptr<const void>>>(std::move(keep_alive));
  for (const auto& s : w.splices())
    r.splices.push_back({s.at_offset, s.region.fd, s.region.position, s.region.length, hold});
  return r;
}

// Stage 2 of a pipelined request: owns all it uses (see staged.h).
asio::awaitable<Response> finish(asio::awaitable<proto::ResponseBody> rest, BrokerState& broker, int16_t key,
                                 int16_t version, int32_t correlation_id, bool no_response,
                                 std::chrono::steady_clock::time_point started,
                                 std::vector<std::shared_ptr<const void>> keep_alive) {
  proto::ResponseBody body = co_await std::move(rest);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  broker.metrics.observe_request(key, seconds);
  if (no_response) co_return Response::none();
  co_return encode(correlation_id, body, version, keep_alive);
}

// The cluster-wide admin APIs whose denial is only a top-level error, and the
// operation each needs on the cluster (ElectLeaders and
// AlterPartitionReassignments answer each named partition too: their handlers check).
std::optional<acl::AclOperation> cluster_operation(int16_t key) {
  using K = proto::ApiKey;
  switch (static_cast<K>(key)) {
    case K::kAddRaftVoter:
    case K::kRemoveRaftVoter:
      return acl::AclOperation::kAlter;
    case K::kListPartitionReassignments:
    case K::kDescribeLogDirs:
    case K::kDescribeQuorum:
      return acl::AclOperation::kDescribe;
    default:
      return std::nullopt;
  }
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Dispatched now(Response r) {
  Dispatched d;
  d.response = std::move(r);
  return d;
}

// The requests only the active controller serves (KRaft forwards the same
// ones): topic and config changes write the metadata log; DescribeQuorum
// needs the leader's view of its voters; AddRaftVoter / RemoveRaftVoter change them.
bool for_the_controller(int16_t key) {
  using K = proto::ApiKey;
  for (K k : {K::kCreateTopics, K::kDeleteTopics, K::kCreatePartitions, K::kAlterConfigs, K::kIncrementalAlterConfigs,
              K::kAlterPartitionReassignments, K::kDescribeQuorum, K::kAddRaftVoter, K::kRemoveRaftVoter,
              K::kAlterUserScramCredentials, K::kCreateAcls, K::kDeleteAcls})
    if (key == static_cast<int16_t>(k)) return true;
  return false;
}

// Sends the whole request frame to the active controller and answers with its
// response once this node has applied the metadata log as far as the
// controller had (so the client reads its own write here). Retries while the
// quorum has no leader, up to `deadline`; nullopt when this node became the
// controller meanwhile (serve it here).
asio::awaitable<std::optional<Response>> forward_to_controller(BrokerState& b, std::span<const uint8_t> frame,
                                                               const ConnectionInfo& conn,
                                                               std::chrono::steady_clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<uint8_t> bytes(frame.begin(), frame.end());
  while (std::chrono::steady_clock::now() < deadline) {
    if (b.quorum->is_leader()) co_return std::nullopt;
    auto sent = await_callback<ControllerQuorum::Forwarded>(ex, [&b, &bytes, &conn](auto cb) {
      b.quorum->forward(bytes, conn.security->principal, conn.security->host, std::move(cb));
    });
    ControllerQuorum::Forwarded f = co_await std::move(sent);
    if (f.error == 0) {
      // Until this node has applied the write, or the deadline (a node cut off
      // from the quorum answers with what the controller did, late).
      auto applied = await_callback<bool>(ex, [&b, &f, ex, deadline](std::function<void(bool)> cb) {
        auto once = std::make_shared<std::atomic<bool>>(false);
        auto fire = [cb, once](bool v) {
          if (!once->exchange(true)) cb(v);
        };
        b.when_applied(f.metadata_offset, [fire] { fire(true); });
        auto timer = std::make_shared<asio::steady_timer>(ex, deadline);
        timer->async_wait([fire, timer](boost::system::error_code) { fire(false); });
      });
      if (!co_await std::move(applied))
        spdlog::warn("event=forwarded_write_not_applied_here offset={}", f.metadata_offset);
      Response r;
      r.bytes = std::move(f.response_frame);
      co_return r;
    }
    asio::steady_timer pause(ex, std::chrono::milliseconds(100));
    co_await pause.async_wait(asio::use_awaitable);
  }
  co_return Response::close();
}

}  // namespace

asio::awaitable<Dispatched> KafkaDispatcher::raw_sasl_token(std::span<const uint8_t> frame, const ConnectionInfo& conn) {
  auto image = broker_.metadata.current();
  SaslStep step = sasl_authenticate(*conn.security, frame, *image, wall_ms());
  if (step.error != 0) {
    broker_.metrics.sasl_authentication_failures().Increment();
    spdlog::info("event=sasl_authentication_failed conn={} peer={} listener={} handshake=v0 error=\"{}\" reason=\"{}\"",
                 conn.id, conn.peer, conn.listener, step.message, step.reason);
    asio::steady_timer delay(co_await asio::this_coro::executor, std::chrono::milliseconds(kSaslFailureDelayMs));
    boost::system::error_code ec;
    co_await delay.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return now(Response::close());
  }
  Response r;
  r.bytes = std::move(step.reply);  // the connection writes its size prefix
  co_return now(std::move(r));
}

bool KafkaDispatcher::may_pipeline(std::span<const uint8_t> frame) const {
  // Produce only: its stage 1 (appends, in request order) commutes with the
  // fsyncs of the produces before it; anything else waits for their answers.
  return frame.size() >= 2 && ((frame[0] << 8) | frame[1]) == static_cast<int>(proto::ApiKey::kProduce);
}

asio::awaitable<Dispatched> KafkaDispatcher::dispatch(std::span<const uint8_t> frame, const ConnectionInfo& conn) {
  auto started = std::chrono::steady_clock::now();
  // KIP-511 before anything else: an ApiVersions version we do not know may
  // come with a header we cannot parse, so read only key, version and
  // correlation id (the first 8 bytes of every request header).
  if (frame.size() >= 8) {
    wire::Reader r(frame);
    int16_t key = r.int16(), version = r.int16();
    int32_t correlation_id = r.int32();
    const ApiRow* row = find_api(key);
    if (key == static_cast<int16_t>(proto::ApiKey::kApiVersions) && row && version > row->advertise_max) {
      proto::ApiVersionsResponse resp;
      resp.error_code = proto::code(proto::ErrorCode::kUnsupportedVersion);
      for (const auto& a : api_table()) resp.api_keys.push_back({a.key, a.advertise_min, a.advertise_max});
      std::vector<std::shared_ptr<const void>> none;
      broker_.metrics.observe_request(key, 0);
      broker_.metrics.count_error(key, proto::error_name(resp.error_code));
      co_return now(encode(correlation_id, proto::ResponseBody(std::move(resp)), 0, none));
    }
  }
  // After a v0 SaslHandshake the client sends raw SASL tokens, not requests
  // (Kafka's SaslServerAuthenticator; kafka-python 2.0.2 does): answered with
  // raw tokens; a failure closes the connection, as Kafka does.
  if (auto& session = *conn.security; session.sasl && !session.authenticated && session.handshake_version == 0 &&
                                      !session.mechanism.empty()) {
    co_return co_await raw_sasl_token(frame, conn);
  }
  auto parsed = proto::parse_request_frame(frame);
  if (!parsed) {
    spdlog::warn("event=bad_request_header conn={} peer={} bytes={}", conn.id, conn.peer, frame.size());
    co_return now(Response::close());
  }
  const auto& h = parsed->header;
  int16_t key = h.request_api_key, version = h.request_api_version;
  const ApiRow* row = find_api(key);

  if (!row || version < row->advertise_min || version > row->advertise_max) {
    spdlog::warn("event=unsupported_api conn={} peer={} api_key={} api_version={} client_id=\"{}\"", conn.id,
                 conn.peer, key, version, h.client_id.value_or(""));
    if (row) {
      broker_.metrics.count_error(key, proto::error_name(proto::ErrorCode::kUnsupportedVersion));
      if (auto body = unsupported_version_response(key, version)) {
        broker_.metrics.observe_request(key, 0);
        std::vector<std::shared_ptr<const void>> none;
        co_return now(encode(h.correlation_id, *body, version, none));
      }
    }
    co_return now(Response::close());
  }
  if (!sasl_allows(*conn.security, key, wall_ms())) {
    // Kafka: "Unexpected Kafka request of type X during SASL handshake" (or
    // after the session expired without re-authentication): the connection closes.
    spdlog::info("event=sasl_required conn={} peer={} listener={} api={} authenticated={}", conn.id, conn.peer,
                 conn.listener, proto::api_name(key), conn.security->authenticated);
    co_return now(Response::close());
  }
  if (broker_.quorum && for_the_controller(key) && !broker_.quorum->is_leader()) {
    auto deadline = started + std::chrono::milliseconds(broker_.config.integer("request.timeout.ms"));
    auto forwarded = co_await forward_to_controller(broker_, frame, conn, deadline);
    if (forwarded) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      broker_.metrics.observe_request(key, seconds);
      co_return now(std::move(*forwarded));
    }
  }
  // The admin APIs that act on the whole cluster: its ALTER or DESCRIBE, or
  // the API's top-level CLUSTER_AUTHORIZATION_FAILED (Kafka's checks).
  if (auto op = cluster_operation(key); op && broker_.authz && broker_.authz->enabled()) {
    auto image = broker_.metadata.current();
    if (!broker_.authz->allow(*image, *conn.security, proto::api_name(key), *op, acl::ResourceType::kCluster,
                              acl::kClusterName)) {
      broker_.metrics.count_error(key, proto::error_name(proto::ErrorCode::kClusterAuthorizationFailed));
      if (auto denied = top_level_error_response(key, version, proto::code(proto::ErrorCode::kClusterAuthorizationFailed))) {
        std::vector<std::shared_ptr<const void>> none;
        co_return now(encode(h.correlation_id, *denied, version, none));
      }
      co_return now(Response::close());
    }
  }
  proto::RequestBody body;
  auto [status, trailing] = decode_request_as_kafka(key, version, parsed->body, body);
  if (status == proto::DecodeStatus::kOk && trailing > 0)
    spdlog::debug("event=trailing_request_bytes conn={} api={} version={} bytes={}", conn.id, proto::api_name(key),
                  version, trailing);
  if (status != proto::DecodeStatus::kOk) {
    spdlog::warn("event=bad_request_body conn={} peer={} api={} version={} status={}", conn.id, conn.peer,
                 proto::api_name(key), version, proto::decode_status_name(status));
    broker_.metrics.count_error(key, proto::error_name(proto::ErrorCode::kInvalidRequest));
    co_return now(Response::close());
  }

  // (g++ 12 mishandles co_await inside a braced initializer: keep it out.)
  auto executor = co_await asio::this_coro::executor;
  std::string client_id = h.client_id.value_or("");
  RequestContext ctx{broker_, key, version, std::move(client_id), conn, executor};
  auto result = co_await std::visit([&ctx](auto& req) { return call_handler(ctx, req); }, body);
  if (!result.handled) {
    spdlog::warn("event=no_handler api={} version={}", proto::api_name(key), version);
    co_return now(Response::close());
  }
  if (result.rest) {
    // Latency is observed when stage 2 ends: the request's whole time.
    Dispatched d;
    d.later.emplace(finish(std::move(*result.rest), broker_, key, version, h.correlation_id, ctx.no_response,
                           started, std::move(ctx.keep_alive)));
    co_return d;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  broker_.metrics.observe_request(key, seconds);
  if (ctx.no_response) co_return now(Response::none());
  co_return now(encode(h.correlation_id, *result.body, version, ctx.keep_alive));
}

}  // namespace millrace::broker
