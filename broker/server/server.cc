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

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include "broker/server/connection.h"

namespace millrace::broker {

namespace asio = boost::asio;
using asio::ip::tcp;

Server::Server(ServerOptions options, RequestDispatcher& dispatcher, BrokerMetrics& metrics)
    : options_(std::move(options)),
      dispatcher_(dispatcher),
      metrics_(metrics),
      budget_(options_.max_request_memory) {
  budget_.on_change = [&g = metrics_.request_memory_bytes()](int64_t delta) { g.Increment(double(delta)); };
  if (!options_.blocking) {
    own_pool_ = std::make_unique<asio::thread_pool>(1);
    options_.blocking = [pool = own_pool_.get()](std::function<void()> job) { asio::post(*pool, std::move(job)); };
  }
  int n = options_.threads > 0 ? options_.threads : 1;
  for (int i = 0; i < n; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
}

Server::~Server() {
  join();
  // A reader still parked for memory (stop's grace expired) holds its
  // coroutine in the budget's queue: hand it back to its stopped io_context,
  // which destroys it with the context's other work.
  budget_.cancel_all();
}

std::string Server::listen(const std::vector<Listener>& listeners) {
  std::vector<std::shared_ptr<const ListenerRuntime>> runtimes;
  for (const auto& l : listeners) {
    auto r = std::make_shared<ListenerRuntime>();
    r->name = l.name;
    runtimes.push_back(std::move(r));
  }
  return listen(listeners, runtimes);
}

std::string Server::listen(const std::vector<Listener>& listeners,
                           const std::vector<std::shared_ptr<const ListenerRuntime>>& runtimes) {
  for (size_t i = 0; i < listeners.size(); ++i) {
    const auto& l = listeners[i];
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
    runtimes_.push_back(runtimes.at(i));
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
  for (size_t i = 0; i < acceptors_.size(); ++i)
    asio::co_spawn(*contexts_[0], accept_loop(*acceptors_[i], runtimes_[i]), [](std::exception_ptr e) {
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

asio::awaitable<void> Server::accept_loop(tcp::acceptor& acceptor, std::shared_ptr<const ListenerRuntime> runtime) {
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
    auto peer = socket.remote_endpoint(ec);
    const std::string ip = ec ? std::string("?") : peer.address().to_string();
    if (auto limit = admit_connection(ip); !limit.empty()) {
      metrics_.connections_refused(limit != "max.connections").Increment();
      log_refusal(limit, ip);
      socket.close(ec);
      continue;
    }
    metrics_.connections_accepted().Increment();
    auto conn = std::make_shared<Connection>(*this, std::move(socket), next_connection_id_.fetch_add(1), ip, runtime);
    auto& ctx = *contexts_[i];
    asio::co_spawn(ctx, Connection::run(conn), asio::detached);
  }
}

std::string Server::admit_connection(const std::string& ip) {
  std::lock_guard l(admit_mu_);
  if (admitted_ >= options_.max_connections) return "max.connections";
  auto o = options_.max_connections_per_ip_overrides.find(ip);
  const int64_t per_ip = o != options_.max_connections_per_ip_overrides.end() ? o->second
                                                                               : options_.max_connections_per_ip;
  int64_t& mine = admitted_by_ip_[ip];
  if (mine >= per_ip) {
    if (mine == 0) admitted_by_ip_.erase(ip);
    return "max.connections.per.ip";
  }
  ++mine;
  ++admitted_;
  return {};
}

void Server::release_connection(const std::string& ip) {
  std::lock_guard l(admit_mu_);
  --admitted_;
  auto it = admitted_by_ip_.find(ip);
  if (it != admitted_by_ip_.end() && --it->second <= 0) admitted_by_ip_.erase(it);
}

void Server::log_refusal(const std::string& limit, const std::string& ip) {
  // A client reconnecting in a loop would flood the log: one line a second,
  // with the number of refusals not logged since the last one.
  int64_t unlogged = 0;
  {
    std::lock_guard l(admit_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_log_ < std::chrono::seconds(1)) {
      ++refusals_unlogged_;
      return;
    }
    last_refusal_log_ = now;
    unlogged = std::exchange(refusals_unlogged_, 0);
  }
  spdlog::warn("event=connection_refused limit={} peer={} max_connections={} max_connections_per_ip={} "
               "refused_since_last_log={}",
               limit, ip, options_.max_connections, options_.max_connections_per_ip, unlogged);
}

asio::awaitable<void> Server::run_blocking(std::function<void()> job) {
  // The pool thread posts "done" back to this executor, which wakes the
  // coroutine by cancelling its timer (as cluster::AckWait (cluster/partition/partition.h) does).
  struct Done {
    explicit Done(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool done = false;
  };
  auto d = std::make_shared<Done>(co_await asio::this_coro::executor);
  options_.blocking([d, ex = d->timer.get_executor(), job = std::move(job)] {
    job();
    asio::post(ex, [d] {
      d->done = true;
      d->timer.cancel();
    });
  });
  while (!d->done) {
    d->timer.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;  // cancel() is the wake-up
    co_await d->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
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
