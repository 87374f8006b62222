// The boundary between the network server and the Kafka API layer: the server
// frames bytes, the dispatcher turns one request frame into one Response.
#pragma once

#include <utility>  // before awaitable.hpp (Boost 1.74)
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <span>
#include <string>

#include "broker/server/response.h"

namespace millrace::broker {

// Per-connection facts a handler may use (client address for logs, etc.).
struct ConnectionInfo {
  uint64_t id = 0;
  std::string peer;
};

class RequestDispatcher {
 public:
  virtual ~RequestDispatcher() = default;
  // `frame` is one request without its size prefix; it stays valid until the
  // returned awaitable completes. Runs on the connection's io_context thread.
  virtual boost::asio::awaitable<Response> dispatch(std::span<const uint8_t> frame, const ConnectionInfo& conn) = 0;
};

}  // namespace millrace::broker
