#include "client/connection.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "protocol/generated/api_keys.h"
#include "protocol/generated/api_versions_request.h"
#include "protocol/generated/api_versions_response.h"
#include "protocol/generated/request_header.h"
#include "protocol/request_frame.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::client {

using asio::use_awaitable;
using asio::redirect_error;

Connection::Connection(asio::io_context& io, std::string client_id, std::string host, int port)
    : io_(io), client_id_(std::move(client_id)), host_(std::move(host)), port_(port), socket_(io) {}

Connection::~Connection() {
  boost::system::error_code ec;
  socket_.close(ec);
}

asio::awaitable<Error> Connection::connect(std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io_);
  auto endpoints = co_await resolver.async_resolve(host_, std::to_string(port_), redirect_error(use_awaitable, ec));
  if (ec) co_return Error::network("cannot resolve " + address() + ": " + ec.message());
  // Connect with a deadline: a timer closes the socket if the connect is too slow.
  asio::steady_timer deadline(io_);
  deadline.expires_after(timeout);
  bool timed_out = false;
  deadline.async_wait([this, &timed_out](boost::system::error_code e) {
    if (!e) { timed_out = true; boost::system::error_code ig; socket_.close(ig); }
  });
  co_await asio::async_connect(socket_, endpoints, redirect_error(use_awaitable, ec));
  deadline.cancel();
  if (timed_out) co_return Error::timeout("connecting to " + address() + " timed out");
  if (ec) co_return Error::network("cannot connect to " + address() + ": " + ec.message() +
                                   " (is the broker running and the address right?)");
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  alive_ = true;
  asio::co_spawn(io_, [self = shared_from_this()] { return self->read_loop(); }, asio::detached);

  // Version negotiation: ApiVersions v3, or v0 when the broker does not know v3.
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

std::shared_ptr<Connection::Pending> Connection::send(int16_t api_key, int16_t version, std::vector<uint8_t> body,
                                                      bool expect_response) {
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

  std::shared_ptr<Pending> p;
  if (expect_response) {
    p = std::make_shared<Pending>(io_);
    p->api_key = api_key;
    p->version = version;
    p->correlation = corr;
    pending_[corr] = p;
  }
  write_queue_.push_back(std::move(frame));
  if (!writing_) {
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
  while (alive_ && !write_queue_.empty()) {
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
    boost::system::error_code ec;
    co_await asio::async_write(socket_, pieces, redirect_error(use_awaitable, ec));
    if (ec) {
      fail_all(Error::network("write to " + address() + " failed: " + ec.message()));
      break;
    }
  }
  writing_ = false;
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  while (alive_) {
    uint8_t size_bytes[4];
    boost::system::error_code ec;
    co_await asio::async_read(socket_, asio::buffer(size_bytes, 4), redirect_error(use_awaitable, ec));
    if (ec) { fail_all(Error::network("connection to " + address() + " lost: " + ec.message())); break; }
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
    // Each receive may take all that is left of the frame: asio's transfer_all()
    // caps every read_some at 64 KiB, which made a 16 MB Fetch response 256 recv
    // calls (and as many trips through the reactor).
    auto rest_of_frame = [total = frame.size](const boost::system::error_code& e, size_t done) -> size_t {
      return e ? 0 : total - done;
    };
    co_await asio::async_read(socket_, asio::buffer(frame.data.get(), frame.size), rest_of_frame,
                              redirect_error(use_awaitable, ec));
    if (ec) { fail_all(Error::network("connection to " + address() + " lost: " + ec.message())); break; }
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

void Connection::fail_all(const Error& e) {
  alive_ = false;
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
