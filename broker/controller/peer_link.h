// One outbound connection from this node to another voter's controller
// listener, carrying Kafka-framed requests (a request header v2, since every
// API on that listener is flexible): Raft batches (api 10000, fire and
// forget), forwarded admin requests (10001), leadership reports (10002),
// BrokerRegistration (62) and BrokerHeartbeat (63), which wait for their response.
//
// The link connects on first use and again after any error, 100 ms apart at
// the most; requests queued while it is down wait (at most kMaxQueued; the
// oldest fire-and-forget ones are dropped first: Raft resends), and requests
// in flight when the connection breaks, or unanswered after kRequestTimeout
// (a peer that hangs with its connection open), are answered with nullopt. Runs on one
// io_context thread (the controller's); not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace millrace::broker {

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  using Done = std::function<void(std::optional<std::vector<uint8_t>> response_body)>;
  static constexpr size_t kMaxQueued = 1024;
  static constexpr std::chrono::seconds kRequestTimeout{10};
  // The client id of its requests, followed by this node's id: a request
  // carrying it came from a Millrace peer (ElectLeaders forwards only once).
  static constexpr std::string_view kClientIdPrefix = "millrace-controller-";

  PeerLink(boost::asio::io_context& io, int32_t me, int32_t peer, std::string host, uint16_t port);
  void start();
  void stop();
  // `done` empty: no response is awaited (Raft batches).
  void request(int16_t api_key, int16_t api_version, std::vector<uint8_t> body, Done done = {});
  // A file range to send at `at` in a body (in order, `at` not decreasing):
  // the bytes go from the file with sendfile(2), never through memory. `keep`
  // holds the file open until sent.
  struct FileSplice {
    size_t at = 0;
    std::shared_ptr<const void> keep;
    int fd = -1;
    int64_t position = 0;
    int64_t length = 0;
  };
  // A body whose pieces are `body` with `splices` inserted (a leader's
  // catch-up appends, raft::rpc::encode_batch_gathered). A file that shrank
  // before it was sent (a truncation) breaks the connection: the frame cannot
  // be completed; the peer sees it closed and Raft resends.
  void request(int16_t api_key, int16_t api_version, std::vector<uint8_t> body, std::vector<FileSplice> splices);
  int32_t peer() const { return peer_; }
  // Called (on the link's thread) each time a connect is refused: the peer's
  // host answers but nothing listens on its port, so its process is gone (a
  // crash, a kill -9), not merely slow or cut off. A hint for fast failover.
  void on_refused(std::function<void()> f) { on_refused_ = std::move(f); }
  bool connected() const { return connected_; }

 private:
  struct Pending {
    std::vector<uint8_t> head;  // size prefix and request header
    std::vector<uint8_t> body;
    std::vector<FileSplice> splices;
    int32_t correlation_id = 0;
    Done done;
  };
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> send_file(boost::asio::ip::tcp::socket& socket, const FileSplice& s);
  boost::asio::awaitable<void> read_loop(std::shared_ptr<boost::asio::ip::tcp::socket> socket);
  void enqueue(int16_t api_key, int16_t api_version, std::vector<uint8_t> body, std::vector<FileSplice> splices,
               Done done);
  void fail_inflight();
  void expire_inflight();

  boost::asio::io_context& io_;
  const int32_t me_, peer_;
  const std::string host_;
  const uint16_t port_;
  boost::asio::steady_timer wake_;
  std::deque<Pending> queue_;
  struct InFlight {
    Done done;
    std::chrono::steady_clock::time_point sent;
  };
  std::map<int32_t, InFlight> inflight_;
  int32_t next_correlation_ = 1;
  bool connected_ = false;
  bool stopped_ = false;
  std::shared_ptr<boost::asio::ip::tcp::socket> socket_;
  std::function<void()> on_refused_;
};

}  // namespace millrace::broker
