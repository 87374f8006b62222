// close() is bounded and every call after it fails at once with CLIENT_CLOSED, for
// the producer, the consumer and the admin client, including calls blocked in other
// threads when close() starts. The "broker" is a local socket that accepts
// connections and never answers (the worst case for a bounded close: nothing ever
// completes on its own), or a port nobody listens on.
#include <gtest/gtest.h>

#include <utility>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <list>
#include <thread>

#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"

namespace millrace::client {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Accepts TCP connections on 127.0.0.1:<free port> and keeps them open, silent.
class SilentBroker {
 public:
  SilentBroker() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SilentBroker() {
    io_.stop();
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      held_.push_back(std::move(s));
      accept();
    });
  }
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::list<asio::ip::tcp::socket> held_;
  std::thread thread_;
};

ClientConfig client_config(const std::string& bootstrap) {
  ClientConfig c;
  c.bootstrap_servers = bootstrap;
  c.request_timeout = 30s;   // far longer than any bound checked here
  c.connect_timeout = 30s;
  return c;
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// --- Producer ---

TEST(ProducerClose, CallsAfterCloseFailAtOnce) {
  SilentBroker broker;
  ProducerConfig pc;
  pc.client = client_config(broker.address());
  Producer p(pc);
  auto t0 = Clock::now();
  EXPECT_TRUE(p.close(200ms).ok());
  EXPECT_LT(ms_since(t0), 2000);
  EXPECT_TRUE(p.closed());

  t0 = Clock::now();
  EXPECT_EQ(p.send({"t", std::nullopt, std::nullopt, std::string("v")}).code, errc::kClientClosed);
  auto fut = p.send({"t", std::nullopt, std::nullopt, std::string("v")}, nullptr);
  ASSERT_EQ(fut.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(fut.get().error().code, errc::kClientClosed);
  EXPECT_EQ(p.flush(10s).code, errc::kClientClosed);
  EXPECT_EQ(p.drop_connections().code, errc::kClientClosed);
  EXPECT_LT(ms_since(t0), 500);
  EXPECT_TRUE(p.close(10s).ok());   // a second close is a no-op
}

TEST(ProducerClose, SendBlockedOnMetadataReturnsClosed) {
  SilentBroker broker;
  ProducerConfig pc;
  pc.client = client_config(broker.address());
  pc.max_block_ms = 60000;
  auto p = std::make_unique<Producer>(pc);
  // The broker never answers Metadata: send() blocks for max.block.ms...
  auto blocked = std::async(std::launch::async, [&] {
    return p->send({"t", std::nullopt, std::nullopt, std::string("v")});
  });
  ASSERT_EQ(blocked.wait_for(300ms), std::future_status::timeout);
  // ...until close() wakes it.
  auto t0 = Clock::now();
  p->close(300ms);
  EXPECT_LT(ms_since(t0), 3000);
  ASSERT_EQ(blocked.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(blocked.get().code, errc::kClientClosed);
  // The destructor (close with delivery.timeout.ms) has nothing left to wait for.
  t0 = Clock::now();
  p.reset();
  EXPECT_LT(ms_since(t0), 1000);
}

TEST(ProducerClose, DestructorWithoutCloseIsBoundedByDeliveryTimeout) {
  SilentBroker broker;
  ProducerConfig pc;
  pc.client = client_config(broker.address());
  pc.delivery_timeout_ms = 400;
  auto t0 = Clock::now();
  { Producer p(pc); }   // the sender is stuck on a silent broker
  EXPECT_LT(ms_since(t0), 3000);
}

TEST(ProducerClose, UnreachableBrokerCloseIsBounded) {
  ProducerConfig pc;
  pc.client = client_config("127.0.0.1:1");   // nothing listens on port 1
  Producer p(pc);
  auto t0 = Clock::now();
  p.close(100ms);
  EXPECT_LT(ms_since(t0), 2000);
}

// --- Admin ---

TEST(AdminClose, CallsAfterCloseFailAtOnce) {
  SilentBroker broker;
  Admin a(client_config(broker.address()));
  a.close(100ms);
  auto t0 = Clock::now();
  EXPECT_EQ(a.list_topics().error().code, errc::kClientClosed);
  EXPECT_EQ(a.describe_cluster().error().code, errc::kClientClosed);
  EXPECT_EQ(a.create_topic({"t", 1, 1, {}}).code, errc::kClientClosed);
  EXPECT_EQ(a.delete_group("g").code, errc::kClientClosed);
  EXPECT_EQ(a.list_groups().error().code, errc::kClientClosed);
  EXPECT_LT(ms_since(t0), 500);
}

TEST(AdminClose, CallInFlightInAnotherThreadGetsClosed) {
  SilentBroker broker;
  Admin a(client_config(broker.address()));
  auto blocked = std::async(std::launch::async, [&] { return a.list_topics(); });
  ASSERT_EQ(blocked.wait_for(300ms), std::future_status::timeout);   // the broker is silent
  auto t0 = Clock::now();
  a.close(200ms);   // waits up to 200 ms for it, then stops
  EXPECT_LT(ms_since(t0), 2000);
  ASSERT_EQ(blocked.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(blocked.get().error().code, errc::kClientClosed);
}

// --- Consumer ---

TEST(ConsumerClose, CallsAfterCloseFailAtOnce) {
  SilentBroker broker;
  ConsumerConfig cc;
  cc.client = client_config(broker.address());
  cc.group_id = "g";
  Consumer c(cc);
  ASSERT_TRUE(c.subscribe({"t"}).ok());
  auto t0 = Clock::now();
  c.close(300ms);   // the group loop is stuck waiting for FindCoordinator
  EXPECT_LT(ms_since(t0), 3000);

  t0 = Clock::now();
  EXPECT_EQ(c.poll(10s).error().code, errc::kClientClosed);
  EXPECT_EQ(c.subscribe({"t"}).code, errc::kClientClosed);
  EXPECT_EQ(c.assign({{"t", 0}}).code, errc::kClientClosed);
  EXPECT_EQ(c.commit_sync().code, errc::kClientClosed);
  EXPECT_EQ(c.commit_sync({{{"t", 0}, 5}}).code, errc::kClientClosed);
  EXPECT_EQ(c.seek({"t", 0}, 1).code, errc::kClientClosed);
  EXPECT_EQ(c.seek_to_beginning({{"t", 0}}).code, errc::kClientClosed);
  EXPECT_EQ(c.seek_to_end({{"t", 0}}).code, errc::kClientClosed);
  EXPECT_EQ(c.seek_to_time({{"t", 0}}, 0).code, errc::kClientClosed);
  EXPECT_EQ(c.close(10s).code, errc::kClientClosed);
  EXPECT_LT(ms_since(t0), 500);
}

TEST(ConsumerClose, PollBlockedInAnotherThreadReturnsClosed) {
  SilentBroker broker;
  ConsumerConfig cc;
  cc.client = client_config(broker.address());
  Consumer c(cc);
  ASSERT_TRUE(c.assign({{"t", 0}}).ok());
  auto blocked = std::async(std::launch::async, [&] { return c.poll(60s); });
  ASSERT_EQ(blocked.wait_for(300ms), std::future_status::timeout);
  auto t0 = Clock::now();
  c.close(300ms);
  EXPECT_LT(ms_since(t0), 3000);
  ASSERT_EQ(blocked.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(blocked.get().error().code, errc::kClientClosed);
}

TEST(ConsumerClose, SeekInFlightGetsClosed) {
  SilentBroker broker;
  ConsumerConfig cc;
  cc.client = client_config(broker.address());
  Consumer c(cc);
  ASSERT_TRUE(c.assign({{"t", 0}}).ok());
  // ListOffsets (after Metadata) never answers: the call is in flight on the io thread.
  auto blocked = std::async(std::launch::async, [&] { return c.seek_to_end({{"t", 0}}); });
  ASSERT_EQ(blocked.wait_for(300ms), std::future_status::timeout);
  auto t0 = Clock::now();
  c.close(200ms);
  EXPECT_LT(ms_since(t0), 3000);
  ASSERT_EQ(blocked.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(blocked.get().code, errc::kClientClosed);
}

}  // namespace
}  // namespace millrace::client
