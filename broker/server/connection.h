// One client connection: a reader coroutine, a writer coroutine and a
// watchdog, all on the one io_context thread the socket belongs to (so the
// connection needs no locks).
//
//   reader:  read frame -> dispatcher.dispatch (stage 1) -> push a slot -> read next
//                                    |  stage 2 (Dispatched::later), if any, runs
//                                    v  as its own coroutine and fills its slot
//   queue_:  [slot 1][slot 2]...[slot n]   one per request that answers, in request order
//   writer:  waits until the FRONT slot is filled, writes it, pops it, repeats
//
// So responses leave in request order whatever order stage 2s finish in
// (Kafka clients match responses to requests by order), while a produce's
// fsync (stage 2) overlaps the next requests' appends (stage 1) and group
// commit can share one fdatasync between the in-flight requests of one
// producer. Bounds: at most kMaxPendingResponses slots per connection (the
// reader stops reading while the queue is full: back-pressure falls to the
// client's TCP buffer); a request the dispatcher does not allow to pipeline
// (RequestDispatcher::may_pipeline: everything but Produce) waits until the
// queue is empty, i.e. it sees exactly what it would if the connection
// served one request at a time. A stage 1 that says "close" (bad request)
// becomes a slot too: earlier responses are written, then the socket closes.
//
// Memory: after a request's size prefix and before its body the reader
// acquires the frame's size from the server's RequestBudget
// (queued.max.request.bytes); the units ride in the request's slot and are
// returned when its response has been written. While the budget is spent the
// reader parks (no read deadline, and a draining server may close it), so
// backpressure falls to the client's TCP window.
//
// Before sendfile of a spliced file range the writer probes the range with
// preadv2(RWF_NOWAIT); a cold range is read into the page cache on the
// server's blocking pool first (page_cache_probe.h), so the io thread never
// waits for the disk.
//
// The watchdog closes the socket when a deadline passes (idle reaping while
// nothing is in flight, request.timeout.ms while reading the rest of a request
// or writing a response) or, when the server drains for shutdown, once
// nothing is in flight. run() returns only after every stage 2 has finished
// (after a close their responses are dropped), so no coroutine outlives the
// connection's accounting in Server::stop().
#pragma once

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <span>
#include <string>

#include "broker/server/listener_runtime.h"
#include "broker/server/request_budget.h"
#include "broker/server/request_dispatcher.h"
#include "broker/server/response.h"
#include "security/tls/tls_stream.h"
#include "broker/server/wakeup.h"

namespace millrace::broker {

class Server;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Responses (requests in flight) a connection holds before it stops reading.
  // Java producers keep <= 5 in flight, librdkafka up to 1e6: 16 lets group
  // commit batch a whole window of either while bounding a connection's
  // pending stage 2s (each holds only its response, not its request frame).
  static constexpr size_t kMaxPendingResponses = 16;

  // `ip` was admitted by Server::admit_connection; run() releases it at the end.
  Connection(Server& server, boost::asio::ip::tcp::socket socket, uint64_t id, std::string ip,
             std::shared_ptr<const ListenerRuntime> listener = nullptr);
  static boost::asio::awaitable<void> run(std::shared_ptr<Connection> self);

 private:
  // One response to come, in request order; `ready` once `response` is final.
  struct Slot {
    bool ready = false;
    Response response;
    RequestBudget::Units units;  // the request's bytes, returned when the slot is popped
  };

  boost::asio::awaitable<void> serve();
  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<void> watchdog();
  static boost::asio::awaitable<void> complete(std::shared_ptr<Connection> self, std::shared_ptr<Slot> slot,
                                               boost::asio::awaitable<Response> later);
  // TLS listeners: the handshake, then the client's principal from its certificate.
  boost::asio::awaitable<bool> start_tls();
  // Exactly buffer.size() bytes, through TLS when the listener has it.
  boost::asio::awaitable<bool> read_exact(boost::asio::mutable_buffer buffer);
  boost::asio::awaitable<bool> write_all(std::span<const boost::asio::const_buffer> buffers);
  boost::asio::awaitable<bool> send(Response& response);
  boost::asio::awaitable<bool> send_file(const FileSplice& splice);
  void close();

  Server& server_;
  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<const ListenerRuntime> listener_;
  std::unique_ptr<security::tls::TlsStream> tls_;  // TLS listeners, after start_tls()
  boost::asio::steady_timer timer_;
  ConnectionInfo info_;
  std::string ip_;
  std::shared_ptr<RequestBudget::Waiter> budget_wait_;  // set while the reader waits for memory
  std::deque<std::shared_ptr<Slot>> queue_;  // front = oldest; popped after it is written
  Wakeup reader_wake_;                       // a slot left the queue
  Wakeup writer_wake_;                       // a slot was pushed or filled, or the reader ended
  Wakeup writer_done_wake_;                  // the writer ended
  std::chrono::steady_clock::time_point read_deadline_;
  std::chrono::steady_clock::time_point write_deadline_ = std::chrono::steady_clock::time_point::max();
  bool in_request_ = false;  // reading a request's body or running its stage 1
  bool reader_done_ = false;
  bool writer_done_ = false;
  bool closed_ = false;
};

}  // namespace millrace::broker
