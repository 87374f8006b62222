#include "security/tls/tls_stream.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstring>

namespace millrace::security::tls {

namespace asio = boost::asio;

namespace {
constexpr size_t kScratchBytes = 64 << 10;

std::string ssl_error_text(int code) {
  std::string out = openssl_errors();
  if (out.empty()) out = code == SSL_ERROR_SYSCALL ? (errno ? std::strerror(errno) : "connection closed") : "ssl error " + std::to_string(code);
  return out;
}
}  // namespace

TlsStream::TlsStream(asio::ip::tcp::socket& socket, SslCtxPtr ctx)
    : socket_(socket), ctx_(std::move(ctx)), scratch_(new uint8_t[kScratchBytes]) {
  ssl_ = SSL_new(ctx_.get());
  boost::system::error_code ec;
  socket_.native_non_blocking(true, ec);
  if (ssl_) SSL_set_fd(ssl_, socket_.native_handle());
}

TlsStream::~TlsStream() {
  if (ssl_) SSL_free(ssl_);
}

template <typename Op>
asio::awaitable<int> TlsStream::retry(Op op) {
  if (!ssl_) co_return -1;
  for (;;) {
    if (!socket_.is_open()) {  // closed by the owner: its descriptor may belong to another socket now
      last_error_ = "connection closed";
      co_return -1;
    }
    ERR_clear_error();
    errno = 0;
    const int r = op();
    if (r > 0) co_return r;
    const int e = SSL_get_error(ssl_, r);
    boost::system::error_code ec;
    if (e == SSL_ERROR_WANT_READ) {
      co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    } else if (e == SSL_ERROR_WANT_WRITE) {
      co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      last_error_ = e == SSL_ERROR_ZERO_RETURN ? "closed by the peer" : ssl_error_text(e);
      co_return r == 0 ? 0 : -1;
    }
    if (ec) {
      last_error_ = ec.message();
      co_return -1;
    }
  }
}

asio::awaitable<std::string> TlsStream::handshake() {
  if (!ssl_) co_return "SSL_new failed";
  const int r = co_await retry([this] { return SSL_accept(ssl_); });
  if (r > 0) co_return std::string();
  co_return last_error_.empty() ? std::string("handshake failed") : last_error_;
}

asio::awaitable<std::string> TlsStream::connect(const std::string& host, bool verify_host) {
  if (!ssl_) co_return "SSL_new failed";
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  const bool ip = !ec;
  if (!ip) SSL_set_tlsext_host_name(ssl_, host.c_str());
  if (verify_host) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (set != 1) co_return "cannot check the certificate against host '" + host + "': " + openssl_errors();
  }
  const int r = co_await retry([this] { return SSL_connect(ssl_); });
  if (r > 0) co_return std::string();
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK)
    co_return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify) + " (" + last_error_ + ")";
  co_return last_error_.empty() ? std::string("handshake failed") : last_error_;
}

asio::awaitable<bool> TlsStream::read(asio::mutable_buffer buffer) {
  auto* p = static_cast<uint8_t*>(buffer.data());
  size_t left = buffer.size();
  while (left > 0) {
    size_t got = 0;
    const int r = co_await retry([&] { return SSL_read_ex(ssl_, p, left, &got) == 1 ? static_cast<int>(got) : 0; });
    if (r <= 0) co_return false;
    p += got;
    left -= got;
  }
  co_return true;
}

asio::awaitable<bool> TlsStream::write(std::span<const asio::const_buffer> buffers) {
  // Small pieces (a size prefix, a header) go out in one record with what follows.
  size_t filled = 0;
  auto flush = [&]() -> asio::awaitable<bool> {
    size_t done = 0;
    while (done < filled) {
      size_t wrote = 0;
      const int r = co_await retry([&] {
        return SSL_write_ex(ssl_, scratch_.get() + done, filled - done, &wrote) == 1 ? static_cast<int>(wrote) : 0;
      });
      if (r <= 0) co_return false;
      done += wrote;
    }
    filled = 0;
    co_return true;
  };
  for (const auto& b : buffers) {
    const auto* p = static_cast<const uint8_t*>(b.data());
    size_t left = b.size();
    while (left > 0) {
      if (filled == 0 && left >= kScratchBytes) {  // large: straight from the caller's buffer
        size_t wrote = 0;
        const int r = co_await retry([&] { return SSL_write_ex(ssl_, p, left, &wrote) == 1 ? static_cast<int>(wrote) : 0; });
        if (r <= 0) co_return false;
        p += wrote;
        left -= wrote;
        continue;
      }
      const size_t n = std::min(left, kScratchBytes - filled);
      std::memcpy(scratch_.get() + filled, p, n);
      filled += n;
      p += n;
      left -= n;
      if (filled == kScratchBytes && !co_await flush()) co_return false;
    }
  }
  co_return co_await flush();
}

asio::awaitable<size_t> TlsStream::send_file(int fd, int64_t position, size_t length, int* error) {
  *error = 0;
  off_t offset = static_cast<off_t>(position);
  size_t left = length;
  if (kernel_tls_send()) {
    while (left > 0) {
      ossl_ssize_t sent = 0;
      const int r = co_await retry([&] {
        sent = SSL_sendfile(ssl_, fd, offset, left, 0);
        return sent > 0 ? static_cast<int>(std::min<ossl_ssize_t>(sent, 1 << 30)) : static_cast<int>(sent);
      });
      if (r <= 0) {
        *error = -1;
        co_return left;
      }
      offset += sent;
      left -= static_cast<size_t>(sent);
    }
    co_return 0;
  }
  while (left > 0) {
    const ssize_t n = ::pread(fd, scratch_.get(), std::min(left, kScratchBytes), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = n < 0 ? errno : 0;  // 0: the file ended before the range did
      co_return left;
    }
    size_t done = 0;
    while (done < static_cast<size_t>(n)) {
      size_t wrote = 0;
      const int r = co_await retry([&] {
        return SSL_write_ex(ssl_, scratch_.get() + done, static_cast<size_t>(n) - done, &wrote) == 1
                   ? static_cast<int>(wrote)
                   : 0;
      });
      if (r <= 0) {
        *error = -1;
        co_return left - done;
      }
      done += wrote;
    }
    offset += n;
    left -= static_cast<size_t>(n);
  }
  co_return 0;
}

void TlsStream::shutdown() {
  if (ssl_ && socket_.is_open() && SSL_is_init_finished(ssl_)) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // one try: sends close_notify if the socket takes it now
  }
}

bool TlsStream::kernel_tls_send() const {
#ifndef OPENSSL_NO_KTLS
  return ssl_ && BIO_get_ktls_send(SSL_get_wbio(ssl_));
#else
  return false;
#endif
}

X509* TlsStream::peer_certificate() const {
  return ssl_ ? SSL_get0_peer_certificate(ssl_) : nullptr;
}

std::string TlsStream::version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }

}  // namespace millrace::security::tls
