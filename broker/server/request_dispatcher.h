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
#include <map>
#include <memory>
#include <vector>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "broker/server/response.h"

namespace millrace::broker {

// The principal of a broker's own requests (forwarded auto-creation): allowed
// everything; no client can authenticate as it (TLS and SASL give User:...).
inline constexpr std::string_view kInternalPrincipal = "Internal:broker";

// Who the client of a connection is, as its listener established it: TLS
// (the certificate's principal) and SASL (the SaslHandshake and
// SaslAuthenticate handlers write it). Per connection, on its one thread.
struct SecuritySession {
  int16_t protocol = 0;  // SecurityProtocol: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL
  std::string principal = "User:ANONYMOUS";
  std::string host;  // the client's IP address (ACLs that name a host)
  // SASL listeners: until authenticated only ApiVersions, SaslHandshake and
  // SaslAuthenticate are served (anything else closes the connection).
  bool sasl = false;
  bool authenticated = false;
  std::vector<std::string> mechanisms;         // enabled on the listener
  std::map<std::string, std::string> plain_users;  // PLAIN's users (JAAS)
  int64_t reauth_ms = 0;                       // connections.max.reauth.ms
  std::string mechanism;                       // chosen by SaslHandshake
  int16_t handshake_version = -1;
  std::shared_ptr<void> exchange;              // the mechanism's state (SCRAM), the handlers' own
  int64_t expires_at_ms = 0;                   // session end (re-authentication); 0: none
};

// Per-connection facts a handler may use (client address for logs, etc.).
struct ConnectionInfo {
  uint64_t id = 0;
  std::string peer;
  // Received on a controller listener (the Kafka requests it serves answer
  // as a KRaft controller does: controller endpoints, controller APIs).
  bool controller_listener = false;
  std::string listener = "PLAINTEXT";  // the listener's name: Metadata answers with its endpoints
  std::shared_ptr<SecuritySession> security = std::make_shared<SecuritySession>();
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
