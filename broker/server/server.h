// The Kafka listener: accepts connections and serves them with one coroutine
// each, spread round-robin over N io_context threads (one per core by
// default). A connection answers in request order; it pipelines Produce (up
// to Connection::kMaxPendingResponses in flight) and serves every other
// request alone, like Kafka's socket server (connection.h).
// Partition state is guarded by the storage's per-partition locks and the
// group coordinator's lock, so any thread may serve any partition.
//
// Limits (C13, C19): request bytes in flight share one RequestBudget
// (queued.max.request.bytes, request_budget.h); a connection over
// max.connections or max.connections.per.ip is closed at accept, counted in
// millrace_connections_refused_total and logged at most once a second. A
// cold file range is read into the page cache on the blocking pool before
// sendfile (page_cache_probe.h).
//
// Owned by main(); start() then run() blocks until stop() has drained.
#pragma once

#include <utility>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/config/listener.h"
#include "broker/server/listener_runtime.h"
#include "broker/metrics/broker_metrics.h"
#include "broker/server/request_budget.h"
#include "broker/server/request_dispatcher.h"

namespace millrace::broker {

struct ServerOptions {
  int threads = 1;
  int32_t max_request_bytes = 100 << 20;
  std::chrono::milliseconds idle_timeout{600000};
  std::chrono::milliseconds request_timeout{30000};
  int64_t max_request_memory = 100 << 20;  // queued.max.request.bytes; <= 0 = unbounded
  int64_t max_connections = INT32_MAX;     // max.connections
  int64_t max_connections_per_ip = INT32_MAX;                  // max.connections.per.ip
  std::map<std::string, int64_t> max_connections_per_ip_overrides;  // IP text -> limit
  // Runs a job that may block on the disk (page-cache warm-up) off the io
  // threads: main() passes the storage's flush pool. Null = one thread the
  // server owns.
  std::function<void(std::function<void()>)> blocking;
};

class Server {
 public:
  Server(ServerOptions options, RequestDispatcher& dispatcher, BrokerMetrics& metrics);
  ~Server();

  // Binds every listener; returns an error message on failure. Port 0 picks
  // a free port: bound_ports() says which.
  std::string listen(const std::vector<Listener>& listeners);  // PLAINTEXT, named as given
  // Each listener with its security (TLS, SASL): runtimes[i] for listeners[i].
  std::string listen(const std::vector<Listener>& listeners,
                     const std::vector<std::shared_ptr<const ListenerRuntime>>& runtimes);
  std::vector<uint16_t> bound_ports() const;

  // Runs the io_context threads (returns at once; they run until stop()).
  void start();
  // Graceful stop: close acceptors, let each connection finish its current
  // request, then close it; after `grace` close whatever is left.
  void stop(std::chrono::milliseconds grace);
  // Joins the threads.
  void join();

  boost::asio::io_context& context(size_t i) { return *contexts_[i % contexts_.size()]; }
  size_t context_count() const { return contexts_.size(); }

 private:
  friend class Connection;
  boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor,
                                          std::shared_ptr<const ListenerRuntime> runtime);
  // Counts a new connection from `ip` against the limits: empty if admitted,
  // else the name of the limit it is over. release_connection undoes an admit.
  std::string admit_connection(const std::string& ip);
  void release_connection(const std::string& ip);
  void log_refusal(const std::string& limit, const std::string& ip);
  // Runs `job` on the blocking pool; resumes on the caller's executor after.
  boost::asio::awaitable<void> run_blocking(std::function<void()> job);

  ServerOptions options_;
  RequestDispatcher& dispatcher_;
  BrokerMetrics& metrics_;
  // Before contexts_: a coroutine frame the io_contexts destroy may still hold Units.
  RequestBudget budget_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::vector<std::shared_ptr<const ListenerRuntime>> runtimes_;  // one per acceptor
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_connection_id_{1};
  std::atomic<size_t> next_context_{0};
  std::atomic<int64_t> open_connections_{0};
  std::mutex admit_mu_;
  int64_t admitted_ = 0;                          // GUARDED_BY(admit_mu_)
  std::map<std::string, int64_t> admitted_by_ip_;  // GUARDED_BY(admit_mu_)
  std::chrono::steady_clock::time_point last_refusal_log_{};  // GUARDED_BY(admit_mu_)
  int64_t refusals_unlogged_ = 0;                 // GUARDED_BY(admit_mu_)
  std::unique_ptr<boost::asio::thread_pool> own_pool_;  // when options_.blocking is null
};

}  // namespace millrace::broker
