// One TCP connection to one Kafka broker, driven by the client's io thread.
//
// Frames on the wire: int32 size, then RequestHeader + body (request) or
// ResponseHeader + body (response); see protocol/request_frame.h.
//
// Requests are pipelined: roundtrip() queues the encoded frame, a single writer
// coroutine coalesces queued frames into one write, and a single reader coroutine
// matches responses to waiters by correlation id (Kafka answers in order, but we
// match by id anyway). After connect() the connection has negotiated versions with
// ApiVersions (v3, falling back to v0 on UNSUPPORTED_VERSION as in KIP-511):
// version_for() picks the highest version both sides support.
//
// Responses are read straight into one uninitialised buffer per frame (the
// kernel's copy is the only one; large buffers are recycled, frame_buffer_pool.h); roundtrip_frame() hands that buffer over as is,
// so a Fetch response's records are never copied on the way in. roundtrip()
// copies the body into a vector for the callers that want one (small responses).
//
// Security (ConnectionSecurity, built once per client by Cluster from
// ClientConfig::security): over TLS, connect() runs the handshake (the broker's
// chain and, unless turned off, its name checked) before ApiVersions; with SASL
// it then runs SaslHandshake v1 and SaslAuthenticate (v0-2) with the mechanism's
// tokens (sasl_client.h) before the connection is handed out. Every step is
// inside connect()'s one deadline. A broker that answers with a session lifetime
// (connections.max.reauth.ms, KIP-368) gets the exchange again at 85-95% of it,
// as Java's client does: new requests wait, those on the wire are answered, the
// exchange runs alone on the connection, then the queue moves again; a failed
// re-authentication fails the connection with the broker's error.
//
// Thread: every method runs on the io thread only (REQUIRES: called from a
// coroutine on the owning io_context). A broken connection fails all waiters with
// NETWORK_EXCEPTION and stays dead; the owner opens a new one.
#pragma once

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/frame_buffer_pool.h"
#include "client/result.h"
#include "client/security_config.h"
#include "security/tls/pem.h"

namespace millrace::security::tls {
class TlsStream;
}

namespace millrace::client {

namespace asio = boost::asio;

struct VersionRange {
  int16_t min = -1, max = -1;
};

// One response frame as read from the socket: [correlation id, header tags, body].
// Owns its bytes; body() is the part after the response header. Move-only.
struct ResponseFrame {
  FrameBufferPool::Buffer data;
  size_t size = 0;          // bytes in data (the frame after its int32 size)
  size_t body_offset = 0;   // where the body starts (after the response header)
  std::span<const uint8_t> body() const { return {data.get() + body_offset, size - body_offset}; }
};

// What every connection of one client needs to secure itself; shared, read-only.
struct ConnectionSecurity {
  security::tls::SslCtxPtr tls;   // null: no TLS
  bool verify_hostname = true;    // ssl.endpoint.identification.algorithm=https
  std::optional<SaslConfig> sasl;  // unset: no SASL
};

// The ConnectionSecurity of a SecurityConfig (reads the PEM files); the error
// names the setting (INVALID_CLIENT_CONFIG).
Result<std::shared_ptr<const ConnectionSecurity>> make_connection_security(const SecurityConfig& config);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // security null: PLAINTEXT.
  Connection(asio::io_context& io, std::string client_id, std::string host, int port,
             std::shared_ptr<const ConnectionSecurity> security = nullptr);
  ~Connection();

  asio::awaitable<Error> connect(std::chrono::milliseconds timeout);
  bool alive() const { return alive_; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }
  size_t in_flight() const { return pending_.size(); }

  // Highest version in [lo, hi] the broker supports; -1 when none.
  int16_t version_for(int16_t api_key, int16_t lo, int16_t hi) const;

  // Sends header+body and returns the response body (after the response header).
  // expect_response=false (Produce acks=0) returns an empty body once written.
  asio::awaitable<Result<std::vector<uint8_t>>> roundtrip(int16_t api_key, int16_t version,
                                                          std::vector<uint8_t> body, bool expect_response,
                                                          std::chrono::milliseconds timeout);
  // As roundtrip() (always expecting a response) but hands over the frame buffer
  // itself: no copy of the body. Same errors, same timeout behaviour.
  asio::awaitable<Result<ResponseFrame>> roundtrip_frame(int16_t api_key, int16_t version, std::vector<uint8_t> body,
                                                         std::chrono::milliseconds timeout);
  // Closes the socket; waiters fail with NETWORK_EXCEPTION. Used by tests to inject drops.
  void close();

  // The broker's session lifetime from the last SASL exchange (0: none) and how
  // many re-authentications have succeeded on this connection.
  int64_t session_lifetime_ms() const { return session_lifetime_ms_; }
  uint64_t reauthentications() const { return reauthentications_; }

 private:
  struct Pending {
    explicit Pending(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    int16_t api_key = 0, version = 0;
    int32_t correlation = 0;
    bool done = false;
    Result<ResponseFrame> result{Error::network("no response")};
  };

  struct OutFrame {
    std::vector<uint8_t> head;   // int32 size + request header
    std::vector<uint8_t> body;
  };
  // Queues the frame; returns the waiter (null when no response is expected).
  std::shared_ptr<Pending> send(int16_t api_key, int16_t version, std::vector<uint8_t> body, bool expect_response);
  // The frame of a request and, when a response is expected, its registered waiter.
  OutFrame frame(int16_t api_key, int16_t version, std::vector<uint8_t> body, std::shared_ptr<Pending>* waiter);
  asio::awaitable<Result<ResponseFrame>> wait(std::shared_ptr<Pending> p, std::chrono::milliseconds timeout);
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  void fail_all(const Error& e);
  // Reads exactly b.size() bytes / writes every piece, over TLS or not; "" or why not.
  asio::awaitable<std::string> read_exact(asio::mutable_buffer b);
  asio::awaitable<std::string> write_all(const std::vector<asio::const_buffer>& pieces);

  // The steps of connect() after TCP, each its error.
  asio::awaitable<Error> negotiate_versions(std::chrono::milliseconds timeout);
  asio::awaitable<Error> authenticate(std::chrono::milliseconds timeout);
  // A request written by the caller itself while the write loop is held
  // (paused_): the SASL exchange, which nothing else may interleave with.
  asio::awaitable<Result<std::vector<uint8_t>>> exclusive_roundtrip(int16_t api_key, int16_t version,
                                                                    std::vector<uint8_t> body,
                                                                    std::chrono::milliseconds timeout);
  void resume_writes();
  void schedule_reauthentication();
  asio::awaitable<void> reauthenticate();

  asio::io_context& io_;
  std::string client_id_, host_;
  int port_;
  asio::ip::tcp::socket socket_;
  std::shared_ptr<const ConnectionSecurity> security_;
  std::unique_ptr<security::tls::TlsStream> tls_;   // after the TLS handshake
  bool alive_ = false;
  bool writing_ = false;
  bool paused_ = false;   // the SASL exchange holds the connection: queued frames wait
  int32_t next_correlation_ = 1;
  std::chrono::milliseconds exchange_timeout_{10000};   // connect()'s, for re-authentication
  int64_t session_lifetime_ms_ = 0;
  uint64_t reauthentications_ = 0;
  asio::steady_timer reauth_timer_;
  std::deque<OutFrame> write_queue_;
  std::map<int32_t, std::shared_ptr<Pending>> pending_;
  std::map<int16_t, VersionRange> versions_;
  std::shared_ptr<FrameBufferPool> buffers_ = FrameBufferPool::create();
};

}  // namespace millrace::client
