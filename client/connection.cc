#include "client/connection.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <random>

#include "client/sasl_client.h"
#include "client/tls_client.h"
#include "protocol/generated/api_keys.h"
#include "protocol/generated/api_versions_request.h"
#include "protocol/generated/api_versions_response.h"
#include "protocol/generated/request_header.h"
#include "protocol/generated/sasl_authenticate_request.h"
#include "protocol/generated/sasl_authenticate_response.h"
#include "protocol/generated/sasl_handshake_request.h"
#include "protocol/generated/sasl_handshake_response.h"
#include "protocol/request_frame.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"
#include "security/tls/tls_stream.h"

namespace millrace::client {

using asio::use_awaitable;
using asio::redirect_error;

namespace {

bool contains(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

// Why a TLS handshake failed, in the words of the setting to look at.
Error tls_refused(const std::string& address, const std::string& host, const std::string& why) {
  std::string hint;
  if (contains(why, "mismatch"))
    hint = " (the broker's certificate does not name " + host +
           "; dial a name it carries, or set ssl.endpoint.identification.algorithm= to turn hostname verification off)";
  else if (contains(why, "certificate verify failed"))
    hint = " (the broker's certificate does not chain to a CA of ssl.truststore.location / ssl.truststore.certificates)";
  else if (contains(why, "alert"))
    hint = " (the broker refused the session: if its listener asks for a client certificate, check ssl.keystore.*)";
  else if (contains(why, "wrong version number") || contains(why, "packet length too long") || contains(why, "closed") ||
           contains(why, "unexpected eof"))
    hint = " (is this a TLS listener? security.protocol says SSL or SASL_SSL)";
  return Error{errc::kSslAuthenticationFailed, "TLS handshake with " + address + " failed: " + why + hint};
}

}  // namespace

Result<std::shared_ptr<const ConnectionSecurity>> make_connection_security(const SecurityConfig& config) {
  auto out = std::make_shared<ConnectionSecurity>();
  if (uses_tls(config.protocol)) {
    auto ctx = build_client_tls_context(config.tls);
    if (!ctx.ok()) return ctx.error();
    out->tls = *ctx;
    out->verify_hostname = config.tls.verify_hostname;
  }
  if (uses_sasl(config.protocol)) out->sasl = config.sasl;
  return std::shared_ptr<const ConnectionSecurity>(std::move(out));
}

Connection::Connection(asio::io_context& io, std::string client_id, std::string host, int port,
                       std::shared_ptr<const ConnectionSecurity> security)
    : io_(io),
      client_id_(std::move(client_id)),
      host_(std::move(host)),
      port_(port),
      socket_(io),
      security_(std::move(security)),
      reauth_timer_(io) {}

Connection::~Connection() {
  tls_.reset();   // before the socket it runs on
  boost::system::error_code ec;
  socket_.close(ec);
}

asio::awaitable<Error> Connection::connect(std::chrono::milliseconds timeout) {
  exchange_timeout_ = timeout;
  // One deadline for every step: TCP, the TLS handshake, ApiVersions, SASL. At it
  // the socket is closed, which ends whichever step is waiting.
  asio::steady_timer deadline(io_);
  deadline.expires_after(timeout);
  auto timed_out = std::make_shared<bool>(false);
  deadline.async_wait([this, timed_out, self = shared_from_this()](boost::system::error_code e) {
    if (!e) { *timed_out = true; boost::system::error_code ig; socket_.close(ig); }
  });
  std::string stage = "connecting";
  auto finish = [&](Error e) {
    deadline.cancel();
    if (*timed_out)
      return Error::timeout(stage + " to " + address() + " timed out after " + std::to_string(timeout.count()) + " ms");
    return e;
  };
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io_);
  auto endpoints = co_await resolver.async_resolve(host_, std::to_string(port_), redirect_error(use_awaitable, ec));
  if (ec) co_return finish(Error::network("cannot resolve " + address() + ": " + ec.message()));
  co_await asio::async_connect(socket_, endpoints, redirect_error(use_awaitable, ec));
  if (*timed_out || ec)
    co_return finish(Error::network("cannot connect to " + address() + ": " + ec.message() +
                                    " (is the broker running and the address right?)"));
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  if (security_ && security_->tls) {
    stage = "the TLS handshake";
    tls_ = std::make_unique<security::tls::TlsStream>(socket_, security_->tls);
    std::string why = co_await tls_->connect(host_, security_->verify_hostname);
    if (!why.empty()) co_return finish(tls_refused(address(), host_, why));
  }
  alive_ = true;
  asio::co_spawn(io_, [self = shared_from_this()] { return self->read_loop(); }, asio::detached);
  stage = "ApiVersions";
  Error e = co_await negotiate_versions(timeout);
  // TLS 1.3 finishes the client's handshake before the broker has checked the
  // client's certificate: its refusal (an alert) arrives with the first answer.
  if (!e.ok() && tls_ && contains(tls_->last_error(), "alert")) e = tls_refused(address(), host_, tls_->last_error());
  if (e.ok() && security_ && security_->sasl) {
    stage = "SASL authentication";
    e = co_await authenticate(timeout);
    paused_ = false;   // nothing was queued: the connection is handed out only now
  }
  e = finish(std::move(e));
  if (!e.ok() && alive_) fail_all(e);
  co_return e;
}

asio::awaitable<Error> Connection::negotiate_versions(std::chrono::milliseconds timeout) {
  // ApiVersions v3, or v0 when the broker does not know v3.
  for (int16_t v : {int16_t{3}, int16_t{0}}) {
    proto::ApiVersionsRequest req;
    req.client_software_name = "millrace";
    req.client_software_version = "0.1.0";
    wire::Writer w;
    req.encode(w, v);
    auto body = co_await roundtrip(proto::ApiVersionsRequest::kApiKey, v, std::move(w.buffer()), true, timeout);
    if (!body.ok()) co_return body.error();
    proto::ApiVersionsResponse resp;
    wire::Reader r(*body);
    // A v0 reply to an unknown version still decodes as v0.
    if (!resp.decode(r, v)) {
      wire::Reader r0(*body);
      if (!resp.decode(r0, 0)) co_return Error{errc::kCorruptMessage, "malformed ApiVersions response from " + address()};
    }
    if (resp.error_code == errc::kUnsupportedVersion && v != 0) continue;
    if (resp.error_code != 0) co_return Error{resp.error_code, "ApiVersions failed on " + address()};
    for (const auto& k : resp.api_keys) versions_[k.api_key] = {k.min_version, k.max_version};
    co_return Error::none();
  }
  co_return Error{errc::kUnsupportedVersion, address() + " rejected ApiVersions"};
}

asio::awaitable<Error> Connection::authenticate(std::chrono::milliseconds timeout) {
  const SaslConfig& sasl = *security_->sasl;
  paused_ = true;   // the caller resumes writes (connect, reauthenticate)
  const int16_t hv = version_for(proto::SaslHandshakeRequest::kApiKey, 1, 1);
  const int16_t av = version_for(proto::SaslAuthenticateRequest::kApiKey, 0, 2);
  if (hv < 0 || av < 0)
    co_return Error{errc::kIllegalSaslState, address() + " offers no SaslHandshake v1 / SaslAuthenticate: is it a "
                                             "SASL listener? (security.protocol says " +
                                             std::string(tls_ ? "SASL_SSL" : "SASL_PLAINTEXT") + ")"};
  proto::SaslHandshakeRequest hs;
  hs.mechanism = sasl.mechanism;
  wire::Writer hw;
  hs.encode(hw, hv);
  auto hbody = co_await exclusive_roundtrip(proto::SaslHandshakeRequest::kApiKey, hv, std::move(hw.buffer()), timeout);
  if (!hbody.ok()) co_return hbody.error();
  proto::SaslHandshakeResponse hresp;
  wire::Reader hr(*hbody);
  if (!hresp.decode(hr, hv)) co_return Error{errc::kCorruptMessage, "malformed SaslHandshake response from " + address()};
  if (hresp.error_code == errc::kUnsupportedSaslMechanism) {
    std::string offered;
    for (const auto& m : hresp.mechanisms) offered += (offered.empty() ? "" : ", ") + m;
    co_return Error{hresp.error_code, address() + " does not offer sasl.mechanism " + sasl.mechanism +
                                          " on this listener (it offers: " + (offered.empty() ? "none" : offered) + ")"};
  }
  if (hresp.error_code == errc::kIllegalSaslState)
    co_return Error{hresp.error_code, address() + " does not take SASL on this listener (security.protocol says " +
                                          std::string(tls_ ? "SASL_SSL" : "SASL_PLAINTEXT") + ")"};
  if (hresp.error_code != 0)
    co_return Error{hresp.error_code, "SaslHandshake with " + address() + " for " + sasl.mechanism + " failed"};
  SaslExchange exchange(sasl);
  std::optional<std::string> token = exchange.first();
  int64_t lifetime = 0;
  while (token) {
    proto::SaslAuthenticateRequest req;
    req.auth_bytes.assign(token->begin(), token->end());
    wire::Writer w;
    req.encode(w, av);
    auto body = co_await exclusive_roundtrip(proto::SaslAuthenticateRequest::kApiKey, av, std::move(w.buffer()), timeout);
    if (!body.ok()) co_return body.error();
    proto::SaslAuthenticateResponse resp;
    wire::Reader r(*body);
    if (!resp.decode(r, av)) co_return Error{errc::kCorruptMessage, "malformed SaslAuthenticate response from " + address()};
    if (resp.error_code != 0)
      co_return Error{resp.error_code, "authentication of '" + sasl.username + "' with " + sasl.mechanism + " to " +
                                           address() + " refused: " + resp.error_message.value_or("")};
    auto next = exchange.next(std::string_view(reinterpret_cast<const char*>(resp.auth_bytes.data()), resp.auth_bytes.size()));
    if (!next.ok()) co_return Error{next.error().code, "authentication with " + address() + ": " + next.error().message};
    token = std::move(*next);
    lifetime = resp.session_lifetime_ms;
  }
  session_lifetime_ms_ = lifetime;
  schedule_reauthentication();
  co_return Error::none();
}

asio::awaitable<Result<std::vector<uint8_t>>> Connection::exclusive_roundtrip(int16_t api_key, int16_t version,
                                                                              std::vector<uint8_t> body,
                                                                              std::chrono::milliseconds timeout) {
  // REQUIRES: paused_, so that the write loop, once idle, stays idle.
  for (auto waited = std::chrono::milliseconds(0); writing_ && alive_ && waited < timeout;
       waited += std::chrono::milliseconds(2)) {
    asio::steady_timer t(io_);
    t.expires_after(std::chrono::milliseconds(2));
    boost::system::error_code ec;
    co_await t.async_wait(redirect_error(use_awaitable, ec));
  }
  if (!alive_) co_return Error::network("connection to " + address() + " is closed");
  if (writing_) co_return Error::timeout("the write loop of " + address() + " did not stop");
  std::shared_ptr<Pending> p;
  OutFrame f = frame(api_key, version, std::move(body), &p);
  writing_ = true;
  std::vector<asio::const_buffer> pieces;   // (a braced list inside co_await trips gcc 12)
  pieces.push_back(asio::buffer(f.head));
  pieces.push_back(asio::buffer(f.body));
  std::string why = co_await write_all(pieces);
  writing_ = false;
  if (!why.empty()) {
    fail_all(Error::network("write to " + address() + " failed: " + why));
    co_return Error::network("write to " + address() + " failed: " + why);
  }
  auto got = co_await wait(std::move(p), timeout);
  if (!got.ok()) co_return got.error();
  auto b = got->body();
  co_return std::vector<uint8_t>(b.begin(), b.end());
}

void Connection::resume_writes() {
  paused_ = false;
  if (alive_ && !writing_ && !write_queue_.empty()) {
    writing_ = true;
    asio::co_spawn(io_, [self = shared_from_this()] { return self->write_loop(); }, asio::detached);
  }
}

void Connection::schedule_reauthentication() {
  if (session_lifetime_ms_ <= 0) return;
  // As Java's client: at 85-95% of the session, so that it never ends in between.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const double at = 0.85 + 0.1 * std::uniform_real_distribution<double>(0, 1)(rng);
  reauth_timer_.expires_after(std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(session_lifetime_ms_) * at)));
  reauth_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) asio::co_spawn(self->io_, self->reauthenticate(), asio::detached);
  });
}

asio::awaitable<void> Connection::reauthenticate() {
  auto self = shared_from_this();
  if (!alive_) co_return;
  paused_ = true;
  // The broker reads the exchange's requests right after one another: the ones
  // already written are answered first (each is bounded by its own timeout).
  while (alive_ && (writing_ || !pending_.empty())) {
    asio::steady_timer t(io_);
    t.expires_after(std::chrono::milliseconds(2));
    boost::system::error_code ec;
    co_await t.async_wait(redirect_error(use_awaitable, ec));
  }
  if (!alive_) co_return;
  Error e = co_await authenticate(exchange_timeout_);
  if (!e.ok()) {
    if (alive_) fail_all(Error{e.code, "re-authentication failed: " + e.message});
    co_return;
  }
  ++reauthentications_;
  resume_writes();
}

int16_t Connection::version_for(int16_t api_key, int16_t lo, int16_t hi) const {
  auto it = versions_.find(api_key);
  if (it == versions_.end()) return -1;
  int16_t v = std::min(hi, it->second.max);
  if (v < lo || v < it->second.min) return -1;
  return v;
}

asio::awaitable<Result<std::vector<uint8_t>>> Connection::roundtrip(int16_t api_key, int16_t version,
                                                                    std::vector<uint8_t> body,
                                                                    bool expect_response,
                                                                    std::chrono::milliseconds timeout) {
  if (!alive_) co_return Error::network("connection to " + address() + " is closed");
  auto p = send(api_key, version, std::move(body), expect_response);
  if (!p) co_return std::vector<uint8_t>{};
  auto frame = co_await wait(std::move(p), timeout);
  if (!frame.ok()) co_return frame.error();
  auto b = frame->body();
  co_return std::vector<uint8_t>(b.begin(), b.end());
}

asio::awaitable<Result<ResponseFrame>> Connection::roundtrip_frame(int16_t api_key, int16_t version,
                                                                   std::vector<uint8_t> body,
                                                                   std::chrono::milliseconds timeout) {
  if (!alive_) co_return Error::network("connection to " + address() + " is closed");
  co_return co_await wait(send(api_key, version, std::move(body), true), timeout);
}

Connection::OutFrame Connection::frame(int16_t api_key, int16_t version, std::vector<uint8_t> body,
                                      std::shared_ptr<Pending>* waiter) {
  int32_t corr = next_correlation_++;
  proto::RequestHeader h;
  h.request_api_key = api_key;
  h.request_api_version = version;
  h.correlation_id = corr;
  h.client_id = client_id_;
  // The size and header go in their own small buffer; the body is written from its
  // own vector (a gather write), never copied.
  OutFrame frame;
  wire::Writer w(frame.head);
  size_t at = w.reserve_int32();
  h.encode(w, proto::request_header_version(api_key, version));
  w.patch_int32(at, static_cast<int32_t>(frame.head.size() - 4 + body.size()));
  frame.body = std::move(body);
  if (waiter) {
    auto p = std::make_shared<Pending>(io_);
    p->api_key = api_key;
    p->version = version;
    p->correlation = corr;
    pending_[corr] = p;
    *waiter = std::move(p);
  }
  return frame;
}

std::shared_ptr<Connection::Pending> Connection::send(int16_t api_key, int16_t version, std::vector<uint8_t> body,
                                                      bool expect_response) {
  std::shared_ptr<Pending> p;
  write_queue_.push_back(frame(api_key, version, std::move(body), expect_response ? &p : nullptr));
  if (!writing_ && !paused_) {
    writing_ = true;
    asio::co_spawn(io_, [self = shared_from_this()] { return self->write_loop(); }, asio::detached);
  }
  return p;
}

asio::awaitable<Result<ResponseFrame>> Connection::wait(std::shared_ptr<Pending> p, std::chrono::milliseconds timeout) {
  p->timer.expires_after(timeout);
  boost::system::error_code ec;
  if (!p->done) co_await p->timer.async_wait(redirect_error(use_awaitable, ec));
  if (!p->done) {
    pending_.erase(p->correlation);
    co_return Error::timeout(std::string(proto::api_name(p->api_key)) + " request to " + address() +
                             " got no answer in " + std::to_string(timeout.count()) + " ms");
  }
  co_return std::move(p->result);
}

asio::awaitable<void> Connection::write_loop() {
  auto self = shared_from_this();
  std::vector<OutFrame> sending;
  std::vector<asio::const_buffer> pieces;
  while (alive_ && !paused_ && !write_queue_.empty()) {
    // Every queued frame (up to 64, ~1 MiB) in one gather write: one syscall, no copy.
    sending.clear();
    pieces.clear();
    size_t bytes = 0;
    while (!write_queue_.empty() && sending.size() < 64 && bytes < (1u << 20)) {
      sending.push_back(std::move(write_queue_.front()));
      write_queue_.pop_front();
      bytes += sending.back().head.size() + sending.back().body.size();
    }
    for (auto& f : sending) {
      pieces.push_back(asio::buffer(f.head));
      if (!f.body.empty()) pieces.push_back(asio::buffer(f.body));
    }
    std::string why = co_await write_all(pieces);
    if (!why.empty()) {
      fail_all(Error::network("write to " + address() + " failed: " + why));
      break;
    }
  }
  writing_ = false;
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  while (alive_) {
    uint8_t size_bytes[4];
    std::string why = co_await read_exact(asio::buffer(size_bytes, 4));
    if (!why.empty()) { fail_all(Error::network("connection to " + address() + " lost: " + why)); break; }
    int32_t size = static_cast<int32_t>((uint32_t{size_bytes[0]} << 24) | (uint32_t{size_bytes[1]} << 16) |
                                        (uint32_t{size_bytes[2]} << 8) | uint32_t{size_bytes[3]});
    if (size < 4 || size > (512 << 20)) {
      fail_all(Error{errc::kCorruptMessage, "bad frame size " + std::to_string(size) + " from " + address()});
      break;
    }
    // An uninitialised buffer per frame: it becomes the response itself, so nothing
    // is copied after the kernel's copy into it.
    ResponseFrame frame;
    frame.size = static_cast<size_t>(size);
    frame.data = buffers_->take(frame.size);
    why = co_await read_exact(asio::buffer(frame.data.get(), frame.size));
    if (!why.empty()) { fail_all(Error::network("connection to " + address() + " lost: " + why)); break; }
    std::span<const uint8_t> bytes(frame.data.get(), frame.size);
    wire::Reader peek(bytes);
    int32_t corr = peek.int32();
    auto it = pending_.find(corr);
    if (it == pending_.end()) continue;   // timed out earlier: drop the late answer
    auto p = it->second;
    pending_.erase(it);
    auto parsed = proto::parse_response_frame(bytes, p->api_key, p->version);
    if (!parsed) {
      p->result = Error{errc::kCorruptMessage, "malformed response header from " + address()};
    } else {
      frame.body_offset = static_cast<size_t>(parsed->body.data() - frame.data.get());
      p->result = std::move(frame);
    }
    p->done = true;
    p->timer.cancel();
  }
}

asio::awaitable<std::string> Connection::read_exact(asio::mutable_buffer b) {
  if (tls_) {
    if (co_await tls_->read(b)) co_return std::string();
    co_return tls_->last_error().empty() ? std::string("closed") : tls_->last_error();
  }
  // Each receive may take all that is left: asio's transfer_all() caps every
  // read_some at 64 KiB, which made a 16 MB Fetch response 256 recv calls (and as
  // many trips through the reactor).
  auto rest = [total = b.size()](const boost::system::error_code& e, size_t done) -> size_t {
    return e ? 0 : total - done;
  };
  boost::system::error_code ec;
  co_await asio::async_read(socket_, b, rest, redirect_error(use_awaitable, ec));
  co_return ec ? ec.message() : std::string();
}

asio::awaitable<std::string> Connection::write_all(const std::vector<asio::const_buffer>& pieces) {
  if (tls_) {
    if (co_await tls_->write(pieces)) co_return std::string();
    co_return tls_->last_error().empty() ? std::string("closed") : tls_->last_error();
  }
  boost::system::error_code ec;
  co_await asio::async_write(socket_, pieces, redirect_error(use_awaitable, ec));
  co_return ec ? ec.message() : std::string();
}

void Connection::fail_all(const Error& e) {
  alive_ = false;
  reauth_timer_.cancel();
  boost::system::error_code ig;
  socket_.close(ig);
  auto pending = std::move(pending_);
  pending_.clear();
  write_queue_.clear();
  for (auto& [corr, p] : pending) {
    p->result = e;
    p->done = true;
    p->timer.cancel();
  }
}

void Connection::close() { fail_all(Error::network("connection to " + address() + " closed by the client")); }

}  // namespace millrace::client
