#include "broker/server/server.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "broker/server/connection.h"

namespace millrace::broker {

namespace asio = boost::asio;
using asio::ip::tcp;

Server::Server(ServerOptions options, RequestDispatcher& dispatcher, BrokerMetrics& metrics)
    : options_(options), dispatcher_(dispatcher), metrics_(metrics) {
  int n = options_.threads > 0 ? options_.threads : 1;
  for (int i = 0; i < n; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
}

Server::~Server() { join(); }

std::string Server::listen(const std::vector<Listener>& listeners) {
  for (const auto& l : listeners) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(l.host.empty() ? "0.0.0.0" : l.host, ec);
    if (ec) return "listener host '" + l.host + "' is not an IP address: " + ec.message();
    auto acc = std::make_unique<tcp::acceptor>(*contexts_[0]);
    tcp::endpoint ep(addr, l.port);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return "cannot listen on " + l.host + ":" + std::to_string(l.port) + ": " + ec.message();
    acceptors_.push_back(std::move(acc));
  }
  return {};
}

std::vector<uint16_t> Server::bound_ports() const {
  std::vector<uint16_t> out;
  for (const auto& a : acceptors_) {
    boost::system::error_code ec;
    auto ep = a->local_endpoint(ec);
    out.push_back(ec ? 0 : ep.port());
  }
  return out;
}

void Server::start() {
  for (auto& acc : acceptors_)
    asio::co_spawn(*contexts_[0], accept_loop(*acc), [](std::exception_ptr e) {
      if (e) {
        try { std::rethrow_exception(e); } catch (const std::exception& ex) {
          spdlog::error("event=accept_loop_failed error=\"{}\"", ex.what());
        }
      }
    });
  for (auto& ctx : contexts_) {
    threads_.emplace_back([c = ctx.get()] {
      auto guard = asio::make_work_guard(*c);
      c->run();
    });
  }
}

asio::awaitable<void> Server::accept_loop(tcp::acceptor& acceptor) {
  std::chrono::milliseconds backoff(0);
  for (;;) {
    size_t i = next_context_.fetch_add(1) % contexts_.size();
    tcp::socket socket(*contexts_[i]);
    boost::system::error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) co_return;
      // EMFILE/ENFILE/ENOBUFS do not clear by retrying at once: back off
      // (10 ms doubling to 1 s) instead of spinning a core and flooding the log.
      backoff = std::min(backoff == std::chrono::milliseconds(0) ? std::chrono::milliseconds(10) : backoff * 2,
                         std::chrono::milliseconds(1000));
      spdlog::warn("event=accept_failed error=\"{}\" retry_in_ms={}", ec.message(), backoff.count());
      asio::steady_timer timer(acceptor.get_executor(), backoff);
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping_) co_return;
      continue;
    }
    backoff = std::chrono::milliseconds(0);
    if (stopping_) co_return;
    metrics_.connections_accepted().Increment();
    auto conn = std::make_shared<Connection>(*this, std::move(socket), next_connection_id_.fetch_add(1));
    auto& ctx = *contexts_[i];
    asio::co_spawn(ctx, Connection::run(conn), asio::detached);
  }
}

void Server::stop(std::chrono::milliseconds grace) {
  if (stopping_.exchange(true)) return;
  asio::post(*contexts_[0], [this] {
    for (auto& a : acceptors_) {
      boost::system::error_code ec;
      a->close(ec);
    }
  });
  auto deadline = std::chrono::steady_clock::now() + grace;
  // Connections notice stopping_ after their current request and close.
  // Wake idle ones now: they are parked in a read with nothing in flight.
  while (open_connections_.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (open_connections_.load() > 0)
    spdlog::warn("event=shutdown_grace_expired open_connections={}", open_connections_.load());
  for (auto& ctx : contexts_) ctx->stop();
}

void Server::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace millrace::broker
