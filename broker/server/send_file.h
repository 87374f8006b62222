// sendfile(2) of a file range on an Asio TCP socket, for the two places that
// splice log bytes into a connection: a consumer's or follower's Fetch
// response (Connection) and a leader's catch-up appends (PeerLink).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>  // std::exchange, which boost/asio/awaitable.hpp uses without including

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace millrace::broker {

// Sends [position, position + length) of `fd`, switching the socket to
// non-blocking and waiting for it when full. Returns the bytes left unsent:
// 0 when all went; otherwise the file ended early (it shrank: a truncation,
// *error = 0), sendfile failed (*error = its errno) or the socket could not be
// waited for (*error = -1: closed or cancelled, nothing worth a log line).
// The caller must then drop the connection: its frame cannot be completed.
// sendfile of pages not in the page cache blocks on the disk (page_cache_probe.h).
boost::asio::awaitable<size_t> send_file_range(boost::asio::ip::tcp::socket& socket, int fd, int64_t position,
                                               size_t length, int* error);

}  // namespace millrace::broker
