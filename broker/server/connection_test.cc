// Connection's pipeline against a scripted dispatcher over a real socket:
// answers leave in request order whatever order stage 2s finish in, at most
// kMaxPendingResponses are pending, a request that may not pipeline waits for
// every earlier answer, a close answer comes after the earlier answers, and a
// connection reset with stage 2s pending outlives them; an oversized frame
// closes only after the earlier answers (ASan checks the lifetimes in the
// sanitizer build).
//
// Test frames (after the size prefix): kind byte | uint32 id | uint32 stage-2 delay ms.
//   'P' pipelines; its stage 2 sleeps `delay` ms, then answers the 4-byte id.
//   'S' may not pipeline; answers its id at once.
//   'X' answers "close".
//   'F' answers its id followed by a splice of `delay` bytes of a 10-byte file
//       (C15: a file shrunk under sendfile).
#include <utility>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>

#include "broker/server/connection.h"
#include "broker/server/page_cache_probe.h"
#include "broker/server/server.h"

namespace millrace::broker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

uint32_t get32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(v >> s));
}

Response answer(uint32_t id) {
  Response r;
  put32(r.bytes, id);
  return r;
}

class ScriptedDispatcher : public RequestDispatcher {
 public:
  asio::awaitable<Dispatched> dispatch(std::span<const uint8_t> frame, const ConnectionInfo&) override {
    Dispatched d;
    const uint8_t kind = frame[0];
    const uint32_t id = get32(&frame[1]), delay = get32(&frame[5]);
    if (kind == 'S') {
      sync_saw_pending.push_back(pending.load());
      d.response = answer(id);
    } else if (kind == 'X') {
      d.response = Response::close();
    } else if (kind == 'F') {
      d.response = answer(id);
      d.response.splices.push_back({4, file_fd, 0, static_cast<int32_t>(delay), nullptr});
    } else {
      int now = ++pending;
      int seen = max_pending.load();
      while (now > seen && !max_pending.compare_exchange_weak(seen, now)) {}
      auto ex = co_await asio::this_coro::executor;
      d.later.emplace(stage2(id, delay, ex));
    }
    co_return d;
  }
  bool may_pipeline(std::span<const uint8_t> frame) const override { return frame[0] == 'P'; }

  asio::awaitable<Response> stage2(uint32_t id, uint32_t delay_ms, asio::any_io_executor ex) {
    asio::steady_timer t(ex, std::chrono::milliseconds(delay_ms));
    co_await t.async_wait(asio::use_awaitable);
    // Counts as pending until its answer is handed back (the writer may not have sent it yet).
    --pending;
    ++completed;
    co_return answer(id);
  }

  // Only the connection's one thread touches these, except the test's reads after the fact.
  std::atomic<int> pending{0};
  std::atomic<int> max_pending{0};
  std::atomic<int> completed{0};
  std::vector<int> sync_saw_pending;
  int file_fd = -1;  // for 'F': a file of 10 bytes "0123456789"
};

class ConnectionPipelineTest : public ::testing::Test {
 protected:
  virtual ServerOptions options() {
    ServerOptions o;
    o.threads = 1;
    return o;
  }
  void SetUp() override {
    server_ = std::make_unique<Server>(options(), dispatcher_, metrics_);
    ASSERT_EQ(server_->listen({Listener{"PLAINTEXT", "127.0.0.1", 0}}), "");
    port_ = server_->bound_ports().at(0);
    server_->start();
  }
  void TearDown() override {
    server_->stop(5000ms);
    server_->join();
  }

  int connect_client() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }
  static void add(std::vector<uint8_t>& out, char kind, uint32_t id, uint32_t delay_ms = 0) {
    put32(out, 9);
    out.push_back(uint8_t(kind));
    put32(out, id);
    put32(out, delay_ms);
  }
  static void send_all(int fd, const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), ssize_t(bytes.size()));
  }
  static bool recv_exact(int fd, uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t got = ::recv(fd, p, n, 0);
      if (got <= 0) return false;
      p += got;
      n -= size_t(got);
    }
    return true;
  }
  // The id of the next answer, or -1 when the connection closed.
  static int64_t next_answer(int fd) {
    uint8_t buf[8];
    if (!recv_exact(fd, buf, 8)) return -1;
    EXPECT_EQ(get32(buf), 4u);
    return get32(buf + 4);
  }
  bool wait_for(auto cond, std::chrono::milliseconds limit = 10000ms) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  ScriptedDispatcher dispatcher_;
  BrokerMetrics metrics_{"test", [](int16_t) { return std::string_view(); }};
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(ConnectionPipelineTest, AnswersInRequestOrderWhenStage2sFinishInReverse) {
  int fd = connect_client();
  std::vector<uint8_t> req;
  for (uint32_t i = 0; i < 8; ++i) add(req, 'P', i, (8 - i) * 20);  // the last finishes first
  send_all(fd, req);
  for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(next_answer(fd), i);
  EXPECT_EQ(dispatcher_.max_pending.load(), 8);  // all 8 were in stage 2 at once
  ::close(fd);
}

TEST_F(ConnectionPipelineTest, AtMostTheBoundPendingThenTheReaderWaits) {
  const uint32_t n = 3 * Connection::kMaxPendingResponses;
  int fd = connect_client();
  std::vector<uint8_t> req;
  for (uint32_t i = 0; i < n; ++i) add(req, 'P', i, 30);
  send_all(fd, req);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(next_answer(fd), i);
  EXPECT_EQ(dispatcher_.max_pending.load(), int(Connection::kMaxPendingResponses));
  ::close(fd);
}

TEST_F(ConnectionPipelineTest, RequestThatMayNotPipelineWaitsForEarlierAnswers) {
  int fd = connect_client();
  std::vector<uint8_t> req;
  add(req, 'P', 1, 80);
  add(req, 'P', 2, 40);
  add(req, 'S', 3);
  add(req, 'P', 4, 0);
  send_all(fd, req);
  for (int64_t id : {1, 2, 3, 4}) EXPECT_EQ(next_answer(fd), id);
  ASSERT_EQ(dispatcher_.sync_saw_pending.size(), 1u);
  EXPECT_EQ(dispatcher_.sync_saw_pending[0], 0);  // both stage 2s done before 'S' ran
  ::close(fd);
}

TEST_F(ConnectionPipelineTest, CloseAnswerComesAfterTheEarlierAnswers) {
  int fd = connect_client();
  std::vector<uint8_t> req;
  add(req, 'P', 1, 50);
  add(req, 'P', 2, 10);
  add(req, 'X', 0);
  add(req, 'P', 3, 0);  // never read
  send_all(fd, req);
  EXPECT_EQ(next_answer(fd), 1);
  EXPECT_EQ(next_answer(fd), 2);
  EXPECT_EQ(next_answer(fd), -1);
  ::close(fd);
  EXPECT_TRUE(wait_for([&] { return dispatcher_.completed.load() == 2; }));
}

TEST_F(ConnectionPipelineTest, OversizedFrameAfterPendingAnswersThemThenCloses) {
  int fd = connect_client();
  std::vector<uint8_t> req;
  add(req, 'P', 1, 50);
  put32(req, 0x7fffffff);  // above max_request_bytes
  send_all(fd, req);
  EXPECT_EQ(next_answer(fd), 1);
  EXPECT_EQ(next_answer(fd), -1);
  ::close(fd);
}

TEST_F(ConnectionPipelineTest, HalfClosedClientStillGetsEveryAnswer) {
  int fd = connect_client();
  std::vector<uint8_t> req;
  for (uint32_t i = 0; i < 5; ++i) add(req, 'P', i, 30);
  send_all(fd, req);
  ::shutdown(fd, SHUT_WR);
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(next_answer(fd), i);
  EXPECT_EQ(next_answer(fd), -1);
  ::close(fd);
}

TEST_F(ConnectionPipelineTest, ResetWithStage2sPendingOutlivesThem) {
  int fd = connect_client();
  std::vector<uint8_t> req;
  for (uint32_t i = 0; i < 5; ++i) add(req, 'P', i, 400);
  send_all(fd, req);
  ASSERT_TRUE(wait_for([&] { return dispatcher_.pending.load() == 5; }));
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);  // RST while all five wait
  // The connection stays counted until its last stage 2 has finished.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(metrics_.connections().Value(), 1);
  ASSERT_TRUE(wait_for([&] { return metrics_.connections().Value() == 0; }));
  EXPECT_EQ(dispatcher_.completed.load(), 5);
}

TEST_F(ConnectionPipelineTest, ShutdownDrainsPendingAnswers) {
  int fd = connect_client();
  std::vector<uint8_t> req;
  for (uint32_t i = 0; i < 4; ++i) add(req, 'P', i, 100);
  send_all(fd, req);
  ASSERT_TRUE(wait_for([&] { return dispatcher_.pending.load() == 4; }));
  std::thread stopper([&] { server_->stop(5000ms); });
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(next_answer(fd), i);
  EXPECT_EQ(next_answer(fd), -1);  // then closed
  stopper.join();
  ::close(fd);
}

}  // namespace
}  // namespace millrace::broker

namespace millrace::broker {
namespace {

// C15: the file behind a splice is shorter than the frame promised (it shrank
// after the size was sent). Kafka closes the connection ("truncated during
// write"); padding with zeros would hand the client a batch of size 0, which
// the Java client rejects as corrupt.
TEST_F(ConnectionPipelineTest, SpliceOfAShrunkFileClosesInsteadOfPadding) {
  char path[] = "/tmp/millrace-splice-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  ASSERT_EQ(::write(fd, "0123456789", 10), 10);
  dispatcher_.file_fd = fd;
  int c = connect_client();
  std::vector<uint8_t> req;
  add(req, 'F', 7, 100);  // splice 100 bytes of a 10-byte file
  send_all(c, req);
  uint8_t head[8];
  ASSERT_TRUE(recv_exact(c, head, 8));
  EXPECT_EQ(get32(head), 4u + 100u);  // the size promised before the file was read
  EXPECT_EQ(get32(head + 4), 7u);
  uint8_t data[10];
  ASSERT_TRUE(recv_exact(c, data, 10));
  EXPECT_EQ(std::memcmp(data, "0123456789", 10), 0);
  uint8_t more[100];
  ssize_t got = ::recv(c, more, sizeof more, 0);
  EXPECT_EQ(got, 0) << "expected the connection closed, got " << got << " more bytes";
  ::close(c);
  ::close(fd);
}

}  // namespace
}  // namespace millrace::broker

namespace millrace::broker {
namespace {

// C13: with a budget of one 9-byte frame, a second connection's request is not
// read until the first one's answer has been written (its units are returned
// then), and both are answered: backpressure, no deadlock, no error.
class TinyBudgetTest : public ConnectionPipelineTest {
 protected:
  ServerOptions options() override {
    ServerOptions o = ConnectionPipelineTest::options();
    o.max_request_memory = 9;
    return o;
  }
};

TEST_F(TinyBudgetTest, SecondConnectionWaitsForTheFirstAnswerThenIsServed) {
  int a = connect_client(), b = connect_client();
  std::vector<uint8_t> ra, rb;
  add(ra, 'P', 1, 300);
  add(rb, 'S', 2);
  send_all(a, ra);
  ASSERT_TRUE(wait_for([&] { return dispatcher_.pending.load() == 1; }));
  send_all(b, rb);
  // b's frame waits for memory while a's stage 2 sleeps.
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(dispatcher_.sync_saw_pending.empty());
  EXPECT_EQ(metrics_.request_memory_bytes().Value(), 9);
  EXPECT_EQ(next_answer(a), 1);
  EXPECT_EQ(next_answer(b), 2);
  EXPECT_EQ(metrics_.request_memory_waits().Value(), 1);
  ::close(a);
  ::close(b);
  EXPECT_TRUE(wait_for([&] { return metrics_.request_memory_bytes().Value() == 0; }));
}

// A frame larger than the whole budget is served (it takes all of it).
TEST_F(TinyBudgetTest, FrameLargerThanTheBudgetIsServed) {
  int a = connect_client();
  std::vector<uint8_t> req;
  put32(req, 20);  // 20-byte frame, budget 9
  req.push_back('S');
  put32(req, 5);
  put32(req, 0);
  req.resize(req.size() + 11, 0);
  add(req, 'S', 6);
  send_all(a, req);
  EXPECT_EQ(next_answer(a), 5);
  EXPECT_EQ(next_answer(a), 6);
  ::close(a);
}

// C19: max.connections=2 closes a third connection at accept and admits one
// again after a connection closes; max.connections.per.ip likewise per address.
class ConnectionLimitTest : public ConnectionPipelineTest {
 protected:
  ServerOptions options() override {
    ServerOptions o = ConnectionPipelineTest::options();
    o.max_connections = 2;
    return o;
  }
  // True if the connection answers a request, false if it was closed at accept.
  bool served(int fd, uint32_t id) {
    std::vector<uint8_t> req;
    add(req, 'S', id);
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) return false;
    return next_answer(fd) == id;
  }
};

TEST_F(ConnectionLimitTest, OneOverMaxConnectionsIsClosedAndAdmittedAfterOneCloses) {
  int a = connect_client(), b = connect_client();
  ASSERT_TRUE(served(a, 1));
  ASSERT_TRUE(served(b, 2));
  int c = connect_client();
  EXPECT_FALSE(served(c, 3));
  EXPECT_EQ(metrics_.connections_refused(false).Value(), 1);
  ::close(c);
  ::close(a);
  ASSERT_TRUE(wait_for([&] { return metrics_.connections().Value() == 1; }));
  int d = connect_client();
  EXPECT_TRUE(served(d, 4));
  ::close(b);
  ::close(d);
}

class PerIpLimitTest : public ConnectionLimitTest {
 protected:
  ServerOptions options() override {
    ServerOptions o = ConnectionPipelineTest::options();
    o.max_connections_per_ip = 1;
    o.max_connections_per_ip_overrides["127.0.0.2"] = 5;  // not us
    return o;
  }
};

TEST_F(PerIpLimitTest, SecondConnectionFromOneIpIsClosed) {
  int a = connect_client();
  ASSERT_TRUE(served(a, 1));
  int b = connect_client();
  EXPECT_FALSE(served(b, 2));
  EXPECT_EQ(metrics_.connections_refused(true).Value(), 1);
  ::close(a);
  ::close(b);
}

// C17: a file range evicted from the page cache is read into it on the
// blocking pool before sendfile (counted), and the client gets its bytes.
class ColdFileTest : public ConnectionPipelineTest {
 protected:
  void TearDown() override {
    ConnectionPipelineTest::TearDown();
    if (fd_ >= 0) ::close(fd_);
  }
  // An unlinked file of `n` patterned bytes on a disk file system, evicted.
  // False when the file system keeps it cached anyway (tmpfs): skip then.
  bool make_cold_file(size_t n) {
    char path[] = "/var/tmp/millrace-cold-XXXXXX";
    fd_ = ::mkstemp(path);
    if (fd_ < 0) return false;
    ::unlink(path);
    bytes_.resize(n);
    for (size_t i = 0; i < n; ++i) bytes_[i] = uint8_t((i * 131) ^ (i >> 11));
    if (::write(fd_, bytes_.data(), n) != ssize_t(n)) return false;
    ::fdatasync(fd_);
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);
    return resident_pages(n) == 0;  // asked of mincore, not of the probe under test
  }
  size_t resident_pages(size_t n) {
    void* map = ::mmap(nullptr, n, PROT_READ, MAP_SHARED, fd_, 0);
    if (map == MAP_FAILED) return n;
    const size_t page = size_t(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> vec((n + page - 1) / page);
    size_t resident = vec.size();
    if (::mincore(map, n, vec.data()) == 0) {
      resident = 0;
      for (unsigned char v : vec) resident += v & 1;
    }
    ::munmap(map, n);
    return resident;
  }
  int fd_ = -1;
  std::vector<uint8_t> bytes_;
};

TEST_F(ColdFileTest, ProbeSeesEvictedRangeAndWarmUpCachesIt) {
  if (!make_cold_file(1 << 20)) GTEST_SKIP() << "this file system does not evict on POSIX_FADV_DONTNEED";
  EXPECT_FALSE(range_cached(fd_, 0, 1 << 20));
  warm_range(fd_, 0, 1 << 20);
  EXPECT_EQ(resident_pages(1 << 20), (size_t(1) << 20) / size_t(::sysconf(_SC_PAGESIZE)));
  EXPECT_TRUE(range_cached(fd_, 0, 1 << 20));
}

TEST_F(ColdFileTest, EvictedSpliceIsWarmedOnThePoolThenSentIntact) {
  constexpr uint32_t kSize = 4 << 20;
  if (!make_cold_file(kSize)) GTEST_SKIP() << "this file system does not evict on POSIX_FADV_DONTNEED";
  dispatcher_.file_fd = fd_;
  int c = connect_client();
  for (int round = 0; round < 2; ++round) {  // the second time the range is warm
    std::vector<uint8_t> req;
    add(req, 'F', 9, kSize);
    send_all(c, req);
    uint8_t head[8];
    ASSERT_TRUE(recv_exact(c, head, 8));
    EXPECT_EQ(get32(head), 4u + kSize);
    EXPECT_EQ(get32(head + 4), 9u);
    std::vector<uint8_t> got(kSize);
    ASSERT_TRUE(recv_exact(c, got.data(), kSize));
    EXPECT_TRUE(got == bytes_) << "round " << round;
    EXPECT_EQ(metrics_.sendfile_warmups().Value(), 1) << "round " << round;
  }
  ::close(c);
}

}  // namespace
}  // namespace millrace::broker
