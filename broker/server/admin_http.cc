#include "broker/server/admin_http.h"

#include <utility>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace millrace::broker {

namespace asio = boost::asio;
using asio::ip::tcp;

AdminHttp::AdminHttp(asio::io_context& ctx, BrokerMetrics& metrics, const std::atomic<bool>& ready)
    : ctx_(ctx), metrics_(metrics), ready_(ready) {}

std::string AdminHttp::listen(const Listener& l) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(l.host.empty() ? "0.0.0.0" : l.host, ec);
  if (ec) return "admin listener host '" + l.host + "' is not an IP address";
  acceptor_ = std::make_unique<tcp::acceptor>(ctx_);
  tcp::endpoint ep(addr, l.port);
  acceptor_->open(ep.protocol(), ec);
  if (!ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_->bind(ep, ec);
  if (!ec) acceptor_->listen(64, ec);
  if (ec) return "cannot listen on admin " + l.host + ":" + std::to_string(l.port) + ": " + ec.message();
  return {};
}

uint16_t AdminHttp::port() const {
  boost::system::error_code ec;
  return acceptor_ ? acceptor_->local_endpoint(ec).port() : 0;
}

void AdminHttp::start() {
  if (acceptor_) asio::co_spawn(ctx_, accept_loop(), asio::detached);
}

void AdminHttp::stop() {
  if (!acceptor_) return;
  asio::post(ctx_, [this] {
    boost::system::error_code ec;
    acceptor_->close(ec);
  });
}

asio::awaitable<void> AdminHttp::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor_->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;
    }
    asio::co_spawn(ctx_, serve(std::move(s)), [](std::exception_ptr) {});
  }
}

asio::awaitable<void> AdminHttp::serve(tcp::socket accepted) {
  // Shared with the deadline handler, which may run after this coroutine ends.
  auto sock = std::make_shared<tcp::socket>(std::move(accepted));
  auto& socket = *sock;
  asio::steady_timer deadline(socket.get_executor());
  deadline.expires_after(std::chrono::seconds(5));
  deadline.async_wait([sock](boost::system::error_code ec) {
    if (!ec) {
      boost::system::error_code ignored;
      sock->close(ignored);
    }
  });
  asio::streambuf buf(8192);
  boost::system::error_code ec;
  co_await asio::async_read_until(socket, buf, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
  std::string status = "400 Bad Request", body = "bad request\n", type = "text/plain";
  if (!ec) {
    std::string head(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
    auto sp1 = head.find(' ');
    auto sp2 = sp1 == std::string::npos ? sp1 : head.find(' ', sp1 + 1);
    std::string method = head.substr(0, sp1);
    std::string path = sp2 == std::string::npos ? "" : head.substr(sp1 + 1, sp2 - sp1 - 1);
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    if (method != "GET" && method != "HEAD") {
      status = "405 Method Not Allowed";
      body = "only GET\n";
    } else if (path == "/metrics") {
      status = "200 OK";
      body = metrics_.render();
      type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (path == "/healthz") {
      status = "200 OK";
      body = "ok\n";
    } else if (path == "/readyz") {
      bool r = ready_.load();
      std::string problems = r && check_ ? check_() : std::string();
      r = r && problems.empty();
      status = r ? "200 OK" : "503 Service Unavailable";
      body = r ? "ready\n" : "not ready\n" + problems;
    } else {
      status = "404 Not Found";
      body = "try /metrics, /healthz, /readyz\n";
    }
    if (method == "HEAD") body.clear();
  }
  std::string out = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  co_await asio::async_write(socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  deadline.cancel();
}

}  // namespace millrace::broker
