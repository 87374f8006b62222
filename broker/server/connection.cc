#include "broker/server/connection.h"

#include <utility>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "broker/server/page_cache_probe.h"
#include "broker/server/send_file.h"
#include "broker/server/server.h"

namespace millrace::broker {

namespace asio = boost::asio;

namespace {
// A connection keeps a request buffer up to this size between requests (C13).
// Kept bytes are outside the request budget, so they stay small: a larger
// buffer is allocated for its request and freed after it.
constexpr size_t kKeptFrameBytes = 64 << 10;
}  // namespace
using Clock = std::chrono::steady_clock;

Connection::Connection(Server& server, asio::ip::tcp::socket socket, uint64_t id, std::string ip,
                       std::shared_ptr<const ListenerRuntime> listener)
    : server_(server),
      socket_(std::move(socket)),
      listener_(std::move(listener)),
      timer_(socket_.get_executor()),
      reader_wake_(socket_.get_executor()),
      writer_wake_(socket_.get_executor()),
      writer_done_wake_(socket_.get_executor()) {
  ip_ = std::move(ip);
  info_.id = id;
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  info_.peer = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  info_.security->host = ip_;
  if (listener_) {
    info_.listener = listener_->name;
    auto& sec = *info_.security;
    sec.protocol = static_cast<int16_t>(listener_->protocol);
    sec.sasl = uses_sasl(listener_->protocol);
    sec.mechanisms = listener_->sasl.mechanisms;
    sec.plain_users = listener_->sasl.plain_users;
    sec.reauth_ms = listener_->sasl.reauth_ms;
  }
}

asio::awaitable<bool> Connection::start_tls() {
  // The handshake is a request: request.timeout.ms bounds it (watchdog).
  in_request_ = true;
  read_deadline_ = Clock::now() + server_.options_.request_timeout;
  tls_ = std::make_unique<security::tls::TlsStream>(socket_, listener_->tls->current());
  const std::string error = co_await tls_->handshake();
  in_request_ = false;
  if (!error.empty()) {
    server_.metrics_.tls_handshake_failures().Increment();
    spdlog::info("event=tls_handshake_failed conn={} peer={} listener={} error=\"{}\"", info_.id, info_.peer,
                 info_.listener, error);
    co_return false;
  }
  // Kafka's principal of a TLS client: its certificate's subject through
  // ssl.principal.mapping.rules; without a certificate, ANONYMOUS.
  if (X509* cert = tls_->peer_certificate()) {
    const std::string subject = subject_rfc2253(cert);
    auto name = listener_->tls->principal_name(subject);
    if (!name) {
      spdlog::info("event=tls_principal_refused conn={} peer={} subject=\"{}\" error=\"no ssl.principal.mapping.rules "
                   "rule applies\"", info_.id, info_.peer, subject);
      co_return false;
    }
    info_.security->principal = "User:" + *name;
  }
  spdlog::debug("event=tls_established conn={} peer={} version={} ktls_send={} principal=\"{}\"", info_.id,
                info_.peer, tls_->version(), tls_->kernel_tls_send(), info_.security->principal);
  co_return true;
}

asio::awaitable<bool> Connection::read_exact(asio::mutable_buffer buffer) {
  if (tls_) co_return co_await tls_->read(buffer);
  boost::system::error_code ec;
  co_await asio::async_read(socket_, buffer, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<bool> Connection::write_all(std::span<const asio::const_buffer> buffers) {
  if (tls_) co_return co_await tls_->write(buffers);
  boost::system::error_code ec;
  co_await asio::async_write(socket_, buffers, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> Connection::run(std::shared_ptr<Connection> self) {
  self->server_.open_connections_.fetch_add(1);
  self->server_.metrics_.connections().Increment();
  auto ex = self->socket_.get_executor();
  asio::co_spawn(ex, [self]() { return self->watchdog(); }, asio::detached);
  asio::co_spawn(ex, [self]() { return self->write_loop(); }, asio::detached);
  try {
    if (self->listener_ && self->listener_->tls && !co_await self->start_tls()) self->close();
    if (!self->closed_) co_await self->serve();
  } catch (const std::exception& e) {
    spdlog::error("event=connection_failed conn={} peer={} error=\"{}\"", self->info_.id, self->info_.peer, e.what());
    self->close();
  }
  // The writer still owes the responses of what was read (a peer may half-close
  // after its last request), and waits for every pending stage 2.
  self->reader_done_ = true;
  self->writer_wake_.notify();
  while (!self->writer_done_) co_await self->writer_done_wake_.wait();
  self->close();
  self->server_.release_connection(self->ip_);
  self->server_.metrics_.connections().Decrement();
  self->server_.open_connections_.fetch_sub(1);
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  if (tls_) tls_->shutdown();
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  timer_.cancel();
  if (budget_wait_) server_.budget_.cancel(budget_wait_);
  reader_wake_.notify();
  writer_wake_.notify();
}

asio::awaitable<void> Connection::watchdog() {
  auto self = shared_from_this();
  while (!closed_) {
    timer_.expires_after(std::chrono::milliseconds(200));
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) break;
    const bool idle = !in_request_ && queue_.empty();
    const auto now = Clock::now();
    if (now >= write_deadline_ || (now >= read_deadline_ && (in_request_ || queue_.empty()))) {
      spdlog::info("event=connection_deadline conn={} peer={} in_request={} pending={} writing={}", info_.id,
                   info_.peer, in_request_, queue_.size(), now >= write_deadline_);
      close();
    } else if (server_.stopping_ && idle) {
      close();
    }
  }
}

asio::awaitable<void> Connection::serve() {
  std::vector<uint8_t> frame;
  const auto& opt = server_.options_;
  auto& dispatcher = server_.dispatcher_;
  for (;;) {
    if (server_.stopping_ || closed_) co_return;
    in_request_ = false;
    // Room in the pipeline first; no read deadline while we do not read.
    read_deadline_ = Clock::time_point::max();
    while (!closed_ && queue_.size() >= kMaxPendingResponses) co_await reader_wake_.wait();
    if (closed_) co_return;
    read_deadline_ = Clock::now() + opt.idle_timeout;
    std::array<uint8_t, 4> prefix;
    if (!co_await read_exact(asio::buffer(prefix))) co_return;  // closed by peer, reaped, or shutdown
    in_request_ = true;
    int32_t size = static_cast<int32_t>((uint32_t(prefix[0]) << 24) | (uint32_t(prefix[1]) << 16) |
                                        (uint32_t(prefix[2]) << 8) | uint32_t(prefix[3]));
    if (size < 0 || size > opt.max_request_bytes) {
      spdlog::warn("event=request_too_large conn={} peer={} size={} limit={}", info_.id, info_.peer, size,
                   opt.max_request_bytes);
      // Its body cannot be skipped safely: answer what came before, then close.
      auto slot = std::make_shared<Slot>();
      slot->response = Response::close();
      slot->ready = true;
      queue_.push_back(std::move(slot));
      writer_wake_.notify();
      co_return;
    }
    // Memory for the body before reading it. While the budget is spent this
    // connection does not read (no deadline; a draining server may close it).
    in_request_ = false;
    read_deadline_ = Clock::time_point::max();
    RequestBudget::Grant grant = co_await server_.budget_.acquire(size, &budget_wait_);
    if (!grant.granted || closed_) co_return;
    if (grant.waited) server_.metrics_.request_memory_waits().Increment();
    in_request_ = true;
    read_deadline_ = Clock::now() + opt.request_timeout;
    frame.resize(static_cast<size_t>(size));
    if (!co_await read_exact(asio::buffer(frame))) co_return;
    // The handler may wait (long poll, JoinGroup): no deadline while it runs,
    // nor while a request that may not pipeline waits for the earlier ones.
    read_deadline_ = Clock::time_point::max();
    if (!dispatcher.may_pipeline(frame))
      while (!closed_ && !queue_.empty()) co_await reader_wake_.wait();
    if (closed_) co_return;
    Dispatched d = co_await dispatcher.dispatch(frame, info_);
    // The handler is done with the frame (stage 2 owns what it keeps, staged.h):
    // a buffer grown by one large request is not kept for the connection's life.
    if (frame.capacity() > kKeptFrameBytes) std::vector<uint8_t>().swap(frame);
    if (closed_) co_return;
    if (!d.later && d.response.action == Response::Action::kNoResponse) continue;  // acks=0
    auto slot = std::make_shared<Slot>();
    slot->units = std::move(grant.units);
    queue_.push_back(slot);
    if (d.later) {
      asio::co_spawn(socket_.get_executor(), complete(shared_from_this(), slot, std::move(*d.later)),
                     asio::detached);
    } else {
      slot->response = std::move(d.response);
      slot->ready = true;
      writer_wake_.notify();
      if (slot->response.action == Response::Action::kClose) co_return;  // after the earlier responses
    }
  }
}

asio::awaitable<void> Connection::complete(std::shared_ptr<Connection> self, std::shared_ptr<Slot> slot,
                                           asio::awaitable<Response> later) {
  try {
    slot->response = co_await std::move(later);
  } catch (const std::exception& e) {
    spdlog::error("event=request_stage2_failed conn={} peer={} error=\"{}\"", self->info_.id, self->info_.peer,
                  e.what());
    slot->response = Response::close();
  }
  slot->ready = true;
  self->writer_wake_.notify();
}

asio::awaitable<void> Connection::write_loop() {
  const auto& opt = server_.options_;
  try {
    for (;;) {
      while (!queue_.empty() && queue_.front()->ready) {
        Response& r = queue_.front()->response;
        if (!closed_) {
          if (r.action == Response::Action::kClose) {
            close();
          } else if (r.action == Response::Action::kSend) {
            write_deadline_ = Clock::now() + opt.request_timeout;
            bool ok = co_await send(r);
            write_deadline_ = Clock::time_point::max();
            if (!ok) close();
          }
        }
        queue_.pop_front();
        reader_wake_.notify();
      }
      if (reader_done_ && queue_.empty()) break;
      co_await writer_wake_.wait();
    }
  } catch (const std::exception& e) {
    spdlog::error("event=connection_writer_failed conn={} peer={} error=\"{}\"", info_.id, info_.peer, e.what());
    close();
  }
  // After a failure: still wait for the pending stage 2s, so run() outlives them.
  for (;;) {
    while (!queue_.empty() && queue_.front()->ready) {
      queue_.pop_front();
      reader_wake_.notify();
    }
    if (reader_done_ && queue_.empty()) break;
    co_await writer_wake_.wait();
  }
  writer_done_ = true;
  writer_done_wake_.notify();
}

asio::awaitable<bool> Connection::send(Response& r) {
  uint32_t total = static_cast<uint32_t>(r.wire_size());
  std::array<uint8_t, 4> prefix = {uint8_t(total >> 24), uint8_t(total >> 16), uint8_t(total >> 8), uint8_t(total)};
  size_t pos = 0;
  bool prefix_sent = false;
  for (const auto& splice : r.splices) {
    std::array<asio::const_buffer, 2> bufs = {asio::buffer(prefix, prefix_sent ? 0 : 4),
                                              asio::buffer(r.bytes.data() + pos, splice.at - pos)};
    if (!co_await write_all(bufs)) co_return false;
    prefix_sent = true;
    pos = splice.at;
    if (!co_await send_file(splice)) co_return false;
  }
  std::array<asio::const_buffer, 2> bufs = {asio::buffer(prefix, prefix_sent ? 0 : 4),
                                            asio::buffer(r.bytes.data() + pos, r.bytes.size() - pos)};
  co_return co_await write_all(bufs);
}

asio::awaitable<bool> Connection::send_file(const FileSplice& s) {
  if (!range_cached(s.fd, s.position, s.length)) {
    // Cold pages: sendfile would wait for the disk on this io thread
    // (KAFKA-7504). Read them into the page cache on the blocking pool first;
    // the response (and its keep_alive on the fd) lives until we return.
    server_.metrics_.sendfile_warmups().Increment();
    co_await server_.run_blocking([fd = s.fd, pos = s.position, len = int64_t(s.length)] { warm_range(fd, pos, len); });
    if (closed_) co_return false;
  }
  int error = 0;
  const size_t left = tls_ ? co_await tls_->send_file(s.fd, s.position, static_cast<size_t>(s.length), &error)
                           : co_await send_file_range(socket_, s.fd, s.position, static_cast<size_t>(s.length), &error);
  if (left == 0) co_return true;
  if (error == 0) {
    // The file shrank under us (retention, truncation) after the frame's
    // size was sent. Zeros would read as a batch of size 0, which the Java
    // client rejects as corrupt; like Kafka's FileRecords.writeTo ("truncated
    // during write"), close the connection and let the client fetch again.
    spdlog::warn("event=sendfile_truncated conn={} missing_bytes={}", info_.id, left);
  } else if (error > 0) {
    spdlog::warn("event=sendfile_failed conn={} error=\"{}\"", info_.id, std::strerror(error));
  }
  co_return false;
}

}  // namespace millrace::broker
