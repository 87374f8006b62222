// The Kafka listener: accepts connections and serves them with one coroutine
// each, spread round-robin over N io_context threads (one per core by
// default). A connection answers in request order; it pipelines Produce (up
// to Connection::kMaxPendingResponses in flight) and serves every other
// request alone, like Kafka's socket server (connection.h).
// Partition state is guarded by the storage's per-partition locks and the
// group coordinator's lock, so any thread may serve any partition.
//
// Owned by main(); start() then run() blocks until stop() has drained.
#pragma once

#include <utility>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/config/listener.h"
#include "broker/metrics/broker_metrics.h"
#include "broker/server/request_dispatcher.h"

namespace millrace::broker {

struct ServerOptions {
  int threads = 1;
  int32_t max_request_bytes = 100 << 20;
  std::chrono::milliseconds idle_timeout{600000};
  std::chrono::milliseconds request_timeout{30000};
};

class Server {
 public:
  Server(ServerOptions options, RequestDispatcher& dispatcher, BrokerMetrics& metrics);
  ~Server();

  // Binds every listener; returns an error message on failure. Port 0 picks
  // a free port: bound_ports() says which.
  std::string listen(const std::vector<Listener>& listeners);
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
  boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor);

  ServerOptions options_;
  RequestDispatcher& dispatcher_;
  BrokerMetrics& metrics_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_connection_id_{1};
  std::atomic<size_t> next_context_{0};
  std::atomic<int64_t> open_connections_{0};
};

}  // namespace millrace::broker
