// A server-side TLS session on an accepted TCP socket: OpenSSL on the socket's
// own descriptor (a socket BIO, not Asio's memory BIO pair), non-blocking,
// each SSL call retried after Asio says the socket is readable or writable.
// On the socket itself, OpenSSL can hand the record layer to the kernel (kTLS)
// after the handshake where the kernel offers it (the `tls` ULP): then a
// Fetch's file ranges still go by sendfile (SSL_sendfile), with no copy
// through user space. Without it they are read (pread, page cache: warmed by
// the connection first) and written through SSL_write.
//
// One connection's reader and writer coroutines share the session on one
// thread: OpenSSL allows SSL_read and SSL_write to alternate; renegotiation is
// off (tls_context.h), so neither needs the other's direction.
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

#include "broker/server/tls_context.h"

namespace millrace::broker {

class TlsStream {
 public:
  // `socket` must outlive the stream.
  TlsStream(boost::asio::ip::tcp::socket& socket, SslCtxPtr ctx);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // The server's handshake; empty on success, else why (for the log).
  boost::asio::awaitable<std::string> handshake();
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

}  // namespace millrace::broker
