// The boundary between the network server and the Kafka API layer: the server
// frames bytes, the dispatcher turns one request frame into one Response.
//
// Pipelining. A request may answer in two stages: dispatch() runs stage 1 (for
// Produce: the appends, in request order) and may hand back stage 2 in
// Dispatched::later (await the fsync, then build the response). The connection
// reads and dispatches the next request while stage 2 runs, and still writes
// the responses in request order (connection.h). Only requests for which
// may_pipeline() is true are dispatched while earlier responses are pending;
// any other request first waits until every earlier response has been written,
// as if the connection served one request at a time.
#pragma once

#include <utility>  // before awaitable.hpp (Boost 1.74)
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "broker/server/response.h"

namespace millrace::broker {

// Per-connection facts a handler may use (client address for logs, etc.).
struct ConnectionInfo {
  uint64_t id = 0;
  std::string peer;
  // Received on a controller listener (the Kafka requests it serves answer
  // as a KRaft controller does: controller endpoints, controller APIs).
  bool controller_listener = false;
};

// What dispatch() hands back: the response now, or (when `later` is set) a
// coroutine not yet started that produces it. `later` must not refer to the
// frame or the ConnectionInfo: it runs after dispatch() returned, possibly
// after the connection closed (its result is then dropped).
struct Dispatched {
  Response response;
  std::optional<boost::asio::awaitable<Response>> later;
};

class RequestDispatcher {
 public:
  virtual ~RequestDispatcher() = default;
  // `frame` is one request without its size prefix; it stays valid until the
  // returned awaitable completes. Runs on the connection's io_context thread,
  // and so does `later`.
  virtual boost::asio::awaitable<Dispatched> dispatch(std::span<const uint8_t> frame, const ConnectionInfo& conn) = 0;
  // True when this request may be dispatched while earlier responses of its
  // connection are still pending (its stage 1 commutes with their stage 2).
  virtual bool may_pipeline(std::span<const uint8_t> frame) const = 0;
};

}  // namespace millrace::broker
