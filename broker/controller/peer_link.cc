#include "broker/controller/peer_link.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>


#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "broker/server/send_file.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::broker {

namespace asio = boost::asio;
using asio::ip::tcp;

PeerLink::PeerLink(asio::io_context& io, int32_t me, int32_t peer, std::string host, uint16_t port)
    : io_(io), me_(me), peer_(peer), host_(std::move(host)), port_(port), wake_(io) {}

void PeerLink::start() {
  asio::co_spawn(io_, [self = shared_from_this()]() { return self->run(); }, asio::detached);
}

void PeerLink::stop() {
  stopped_ = true;
  wake_.cancel();
  if (socket_) {
    boost::system::error_code ec;
    socket_->close(ec);
  }
}

void PeerLink::request(int16_t api_key, int16_t api_version, std::vector<uint8_t> body, Done done) {
  enqueue(api_key, api_version, std::move(body), {}, std::move(done));
}

void PeerLink::request(int16_t api_key, int16_t api_version, std::vector<uint8_t> body,
                       std::vector<FileSplice> splices) {
  enqueue(api_key, api_version, std::move(body), std::move(splices), {});
}

void PeerLink::enqueue(int16_t api_key, int16_t api_version, std::vector<uint8_t> body,
                       std::vector<FileSplice> splices, Done done) {
  Pending p;
  p.correlation_id = next_correlation_++;
  p.done = std::move(done);
  wire::Writer w(p.head);
  w.int32(0);  // size, patched below
  w.int16(api_key);
  w.int16(api_version);
  w.int32(p.correlation_id);
  std::string client = std::string(kClientIdPrefix) + std::to_string(me_);
  w.int16(static_cast<int16_t>(client.size()));
  w.string(client);
  w.uvarint(0);  // no tagged fields (request header v2)
  size_t spliced = 0;
  for (const auto& f : splices) spliced += static_cast<size_t>(f.length);
  const auto size = static_cast<uint32_t>(p.head.size() - 4 + body.size() + spliced);
  p.head[0] = static_cast<uint8_t>(size >> 24);
  p.head[1] = static_cast<uint8_t>(size >> 16);
  p.head[2] = static_cast<uint8_t>(size >> 8);
  p.head[3] = static_cast<uint8_t>(size);
  p.body = std::move(body);  // sent as it is, after the head: not copied into a frame
  p.splices = std::move(splices);
  if (queue_.size() >= kMaxQueued) {
    // Drop the oldest fire-and-forget request (Raft resends); else refuse this one.
    auto it = std::find_if(queue_.begin(), queue_.end(), [](const Pending& q) { return !q.done; });
    if (it != queue_.end()) {
      queue_.erase(it);
    } else {
      if (p.done) p.done(std::nullopt);
      return;
    }
  }
  queue_.push_back(std::move(p));
  wake_.cancel();
}

void PeerLink::fail_inflight() {
  auto inflight = std::move(inflight_);
  inflight_.clear();
  for (auto& [id, f] : inflight)
    if (f.done) f.done(std::nullopt);
}

void PeerLink::expire_inflight() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<Done> expired;
  for (auto it = inflight_.begin(); it != inflight_.end();) {
    if (now - it->second.sent > kRequestTimeout) {
      if (it->second.done) expired.push_back(std::move(it->second.done));
      it = inflight_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : expired) done(std::nullopt);
}

asio::awaitable<void> PeerLink::run() {
  auto self = shared_from_this();
  bool logged_down = false;
  while (!stopped_) {
    auto socket = std::make_shared<tcp::socket>(io_);
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints = co_await resolver.async_resolve(host_, std::to_string(port_),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      // A connect that hangs (a peer cut off) is abandoned after a second.
      asio::steady_timer deadline(io_, std::chrono::seconds(1));
      deadline.async_wait([socket](boost::system::error_code e) {
        if (!e) {
          boost::system::error_code ignore;
          socket->close(ignore);
        }
      });
      co_await asio::async_connect(*socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
      deadline.cancel();
    }
    if (ec || !socket->is_open()) {
      if (!logged_down) spdlog::info("event=controller_peer_down peer={} address={}:{} error=\"{}\"", peer_, host_, port_,
                                     ec ? ec.message() : "connect timed out");
      logged_down = true;
      if (ec == asio::error::connection_refused && on_refused_) on_refused_();
      // Requests that wait for an answer fail now rather than at reconnect.
      for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->done) {
          auto done = std::move(it->done);
          it = queue_.erase(it);
          done(std::nullopt);
        } else {
          ++it;
        }
      }
      wake_.expires_after(std::chrono::milliseconds(100));
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket->set_option(tcp::no_delay(true), ec);
    if (logged_down) spdlog::info("event=controller_peer_up peer={} address={}:{}", peer_, host_, port_);
    logged_down = false;
    socket_ = socket;
    connected_ = true;
    asio::co_spawn(io_, read_loop(socket), asio::detached);
    while (!stopped_ && socket->is_open()) {
      expire_inflight();
      if (queue_.empty()) {
        wake_.expires_after(std::chrono::seconds(1));
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      // Everything queued goes out in one gathering write (no copy of the
      // bodies: catch-up batches are megabytes).
      // A file splice first writes what is gathered before it, then sends
      // its range from the file.
      std::deque<Pending> sending;
      std::vector<asio::const_buffer> out;
      bool broken = false;
      while (!queue_.empty() && !broken) {
        sending.push_back(std::move(queue_.front()));
        queue_.pop_front();
        Pending& p = sending.back();
        if (p.done) inflight_[p.correlation_id] = {std::move(p.done), std::chrono::steady_clock::now()};
        out.push_back(asio::buffer(p.head));
        size_t at = 0;
        for (const FileSplice& f : p.splices) {
          out.push_back(asio::buffer(p.body.data() + at, f.at - at));
          at = f.at;
          co_await asio::async_write(*socket, out, asio::redirect_error(asio::use_awaitable, ec));
          out.clear();
          if (ec || !co_await send_file(*socket, f)) {
            broken = true;
            break;
          }
        }
        if (at < p.body.size()) out.push_back(asio::buffer(p.body.data() + at, p.body.size() - at));
      }
      if (broken) break;
      co_await asio::async_write(*socket, out, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    connected_ = false;
    boost::system::error_code ignore;
    socket->close(ignore);
    fail_inflight();
  }
  fail_inflight();
}

asio::awaitable<bool> PeerLink::send_file(tcp::socket& socket, const FileSplice& f) {
  int error = 0;
  const size_t left = co_await send_file_range(socket, f.fd, f.position, static_cast<size_t>(f.length), &error);
  if (left == 0) co_return true;
  // The file shrank (a truncation) after the frame's size was written, or
  // the send failed: the frame cannot be completed.
  if (error >= 0)
    spdlog::warn("event=peer_sendfile_failed peer={} missing_bytes={} error=\"{}\"", peer_, left,
                 error == 0 ? "file shorter than its range" : std::strerror(error));
  co_return false;
}

asio::awaitable<void> PeerLink::read_loop(std::shared_ptr<tcp::socket> socket) {
  auto self = shared_from_this();
  std::vector<uint8_t> frame;
  for (;;) {
    boost::system::error_code ec;
    uint8_t size_bytes[4];
    co_await asio::async_read(*socket, asio::buffer(size_bytes), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    uint32_t size = (uint32_t(size_bytes[0]) << 24) | (uint32_t(size_bytes[1]) << 16) | (uint32_t(size_bytes[2]) << 8) |
                    uint32_t(size_bytes[3]);
    if (size < 5 || size > (64u << 20)) break;
    frame.resize(size);
    co_await asio::async_read(*socket, asio::buffer(frame), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    // Response header v1: correlation id, tagged fields.
    wire::Reader r(frame);
    int32_t cid = r.int32();
    uint32_t tags = r.uvarint();
    for (uint32_t i = 0; i < tags && r.ok(); ++i) {
      r.uvarint();
      r.skip(r.uvarint());
    }
    if (!r.ok()) break;
    auto it = inflight_.find(cid);
    if (it == inflight_.end()) continue;
    auto done = std::move(it->second.done);
    inflight_.erase(it);
    if (done) done(std::vector<uint8_t>(frame.begin() + static_cast<std::ptrdiff_t>(frame.size() - r.remaining()), frame.end()));
  }
  boost::system::error_code ignore;
  socket->close(ignore);
  wake_.cancel();
}

}  // namespace millrace::broker
