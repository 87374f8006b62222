// The admin HTTP endpoint (admin.listeners): GET /metrics (Prometheus text
// format), /healthz (200 while the process serves), /readyz (200 only once
// logs are recovered and the Kafka listener is up and the readiness check
// finds nothing wrong, e.g. no log dir offline; else 503 and the reasons).
//
// A tiny HTTP/1.1 server on Asio coroutines rather than prometheus-cpp's
// civetweb Exposer, because the Exposer cannot serve /healthz and /readyz;
// metrics are still collected and rendered by prometheus-cpp. One request per
// connection (Connection: close), 8 KiB header limit, 5 s deadline.
#pragma once

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "broker/config/listener.h"
#include "broker/metrics/broker_metrics.h"

namespace millrace::broker {

class AdminHttp {
 public:
  AdminHttp(boost::asio::io_context& ctx, BrokerMetrics& metrics, const std::atomic<bool>& ready);
  // Returns an error message, empty on success.
  std::string listen(const Listener& l);
  uint16_t port() const;
  void start();
  void stop();
  // Returns what makes the broker unready (empty: nothing); called per /readyz
  // request on the control thread, only once `ready` is true. Set before that.
  void set_readiness_check(std::function<std::string()> check) { check_ = std::move(check); }

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ctx_;
  BrokerMetrics& metrics_;
  const std::atomic<bool>& ready_;
  std::function<std::string()> check_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
};

}  // namespace millrace::broker
