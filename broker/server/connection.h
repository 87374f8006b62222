// One client connection: a coroutine that reads a size-prefixed request,
// hands it to the dispatcher, writes the response, and repeats; plus a
// watchdog coroutine that closes the socket when a deadline passes (idle
// reaping between requests, request.timeout.ms while reading the rest of a
// request or writing a response) or when the server drains for shutdown.
//
// Runs entirely on one io_context thread (the one the socket belongs to).
#pragma once

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

#include "broker/server/request_dispatcher.h"
#include "broker/server/response.h"

namespace millrace::broker {

class Server;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, boost::asio::ip::tcp::socket socket, uint64_t id);
  static boost::asio::awaitable<void> run(std::shared_ptr<Connection> self);

 private:
  boost::asio::awaitable<void> serve();
  boost::asio::awaitable<void> watchdog();
  boost::asio::awaitable<bool> send(Response& response);
  boost::asio::awaitable<bool> send_file(const FileSplice& splice);
  void close();

  Server& server_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  ConnectionInfo info_;
  std::chrono::steady_clock::time_point deadline_;
  bool in_request_ = false;
  bool closed_ = false;
};

}  // namespace millrace::broker
