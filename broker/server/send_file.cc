#include "broker/server/send_file.h"

#include <cerrno>

#include <sys/sendfile.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace millrace::broker {

namespace asio = boost::asio;

asio::awaitable<size_t> send_file_range(asio::ip::tcp::socket& socket, int fd, int64_t position, size_t length,
                                        int* error) {
  *error = 0;
  boost::system::error_code ec;
  socket.native_non_blocking(true, ec);
  if (ec) {
    *error = -1;
    co_return length;
  }
  off_t offset = static_cast<off_t>(position);
  size_t left = length;
  while (left > 0) {
    ssize_t n = ::sendfile(socket.native_handle(), fd, &offset, left);
    if (n > 0) {
      left -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      co_await socket.async_wait(asio::ip::tcp::socket::wait_write, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        *error = -1;
        co_return left;
      }
      continue;
    }
    if (n < 0) *error = errno;
    co_return left;  // n == 0: the file ended before the range did
  }
  co_return 0;
}

}  // namespace millrace::broker
