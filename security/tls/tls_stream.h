// A TLS session on a TCP socket, either end: the broker's on an accepted socket
// (accept()), the client's on a connected one (connect(), which checks the
// server's certificate and, asked to, its name). OpenSSL on the socket's own
// descriptor (a socket BIO, not Asio's memory BIO pair), non-blocking, each
// SSL call retried after Asio says the socket is readable or writable; once the
// socket is closed (by the owner, e.g. at a deadline) no SSL call touches its
// old descriptor again and every call fails.
// On the socket itself, OpenSSL can hand the record layer to the kernel (kTLS)
// after the handshake where the kernel offers it (the `tls` ULP): then a
// Fetch's file ranges still go by sendfile (SSL_sendfile), with no copy
// through user space. Without it they are read (pread, page cache: warmed by
// the connection first) and written through SSL_write.
//
// One connection's reader and writer coroutines share the session on one
// thread: OpenSSL allows SSL_read and SSL_write to alternate; renegotiation is
// off (broker/server/tls_context.h, client/tls_client.h), so neither needs the
// other's direction.
#pragma once

#include <openssl/ssl.h>

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "security/tls/pem.h"

namespace millrace::security::tls {

class TlsStream {
 public:
  // `socket` must outlive the stream.
  TlsStream(boost::asio::ip::tcp::socket& socket, SslCtxPtr ctx);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // The server's handshake; empty on success, else why (for the log).
  boost::asio::awaitable<std::string> handshake();
  // The client's handshake with `host` (sent as SNI unless it is an IP
  // address). The context verifies the chain; with verify_host the
  // certificate must also name `host` (a DNS or IP subjectAltName, as Java's
  // ssl.endpoint.identification.algorithm=https). Empty on success, else why,
  // saying which check failed (chain, name) where OpenSSL tells.
  boost::asio::awaitable<std::string> connect(const std::string& host, bool verify_host);
  // Reads exactly buffer.size() bytes; false on EOF, error or close.
  boost::asio::awaitable<bool> read(boost::asio::mutable_buffer buffer);
  // Writes all of `buffers`, in order; false on error or close.
  boost::asio::awaitable<bool> write(std::span<const boost::asio::const_buffer> buffers);
  // [position, position + length) of `fd`; the bytes left unsent (0: all),
  // *error as send_file_range's (send_file.h).
  boost::asio::awaitable<size_t> send_file(int fd, int64_t position, size_t length, int* error);
  // Best effort close_notify (never waits).
  void shutdown();

  bool kernel_tls_send() const;
  X509* peer_certificate() const;  // owned by the session; null when none
  std::string version() const;     // "TLSv1.3"
  const std::string& last_error() const { return last_error_; }  // why the last call failed

 private:
  // Runs op() until it succeeds or fails for good, waiting on the socket in
  // between: > 0 on success, else <= 0.
  template <typename Op>
  boost::asio::awaitable<int> retry(Op op);

  boost::asio::ip::tcp::socket& socket_;
  SslCtxPtr ctx_;  // keeps the context (maybe since replaced) alive as long as the session
  SSL* ssl_ = nullptr;
  std::string last_error_;
  std::unique_ptr<uint8_t[]> scratch_;  // coalesces small writes, reads file ranges without kTLS
};

}  // namespace millrace::security::tls
