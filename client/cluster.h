// Cluster: the client's view of a Kafka cluster and its single io thread.
//
// Owns an io_context running on one thread, the bootstrap addresses, a metadata
// cache (brokers, topics, partition leaders) and one Connection per broker.
// Producer, Consumer and Admin are built on it.
//
//   call<Req>(node, req)      coroutine on the io thread: picks the version (the
//                             highest both sides support within the client's cap),
//                             encodes, sends, decodes Req's response type
//   run(awaitable)            from any other thread: runs a coroutine on the io
//                             thread and blocks for its result (sync APIs); after
//                             shutdown() it answers CLIENT_CLOSED at once
//   run_within(aw, deadline)  the same, bounded: past the deadline the cluster is
//                             shut down (close paths only) and TIMED_OUT returned
//
// node = kAnyNode sends to any live broker (bootstrap first). A failed connection
// is dropped and reopened on the next call. Connections are secured as
// ClientConfig::security says (security_config.h); a configuration that cannot
// work (a PEM file that does not load) and a refused authentication
// (is_authentication_error) are returned at once, not retried on the next
// bootstrap server. REQUIRES: call()/refresh_metadata()
// run on the io thread; run() is never called from the io thread.
#pragma once

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/api_traits.h"

#include "client/connection.h"
#include "client/result.h"
#include "client/security_config.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::client {

inline constexpr int32_t kAnyNode = -1;

struct ClientConfig {
  std::string bootstrap_servers = "127.0.0.1:9092";   // host:port[,host:port...]
  std::string client_id = "millrace";
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds metadata_max_age{300000};
  // TLS and SASL by the Java client's names (security_config.h; from properties:
  // properties.h). connect_timeout bounds each connection's TCP connect, TLS
  // handshake, ApiVersions and SASL exchange together.
  SecurityConfig security;
};

struct BrokerInfo {
  int32_t node_id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

struct PartitionInfo {
  int32_t partition = 0;
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  int16_t error_code = 0;
  std::vector<int32_t> replicas, isr, offline;
};

struct TopicInfo {
  std::string name;
  int16_t error_code = 0;
  bool internal = false;
  std::vector<PartitionInfo> partitions;   // sorted by partition
};

struct ClusterMetadata {
  std::string cluster_id;
  int32_t controller_id = -1;
  std::map<int32_t, BrokerInfo> brokers;
  std::map<std::string, TopicInfo> topics;
};

class Cluster {
 public:
  explicit Cluster(ClientConfig cfg);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  asio::io_context& io() { return io_; }
  // Stops the io thread and waits for it; idempotent. REQUIRES: not on the io thread.
  // After it, no coroutine of this cluster runs again, and every run() (including
  // ones blocked in other threads) returns CLIENT_CLOSED.
  void shutdown();
  // Graceful close: new run() calls get CLIENT_CLOSED at once; the ones in flight get
  // up to `timeout` to finish, then shutdown(). REQUIRES: not on the io thread.
  void close(std::chrono::milliseconds timeout);
  bool closed() const { return closed_.load(); }
  bool on_io_thread() const { return std::this_thread::get_id() == thread_id_; }
  const ClientConfig& config() const { return cfg_; }

  // Runs a coroutine on the io thread and waits for it (from a non-io thread).
  // T is a Result<...> or Status: a closed cluster, a call from the io thread itself
  // (it would wait for itself) or an exception escaping the coroutine come back as
  // errors. REQUIRES: what the coroutine references outlives the call (it does: the
  // coroutine has finished, or the io thread is joined, when run() returns).
  template <typename T>
  T run(asio::awaitable<T> aw) {
    return run_impl(std::move(aw), std::nullopt);
  }
  // As run(), but gives up at the deadline: it then shuts the cluster down (the only
  // way to abandon a running coroutine safely) and returns REQUEST_TIMED_OUT. For
  // close paths, which shut down anyway.
  template <typename T>
  T run_within(asio::awaitable<T> aw, std::chrono::steady_clock::time_point deadline) {
    return run_impl(std::move(aw), deadline);
  }

  template <typename Req>
  asio::awaitable<Result<typename ApiTraits<Req>::Response>> call(int32_t node, const Req& req,
                                                                  std::optional<std::chrono::milliseconds> timeout = {}) {
    using Resp = typename ApiTraits<Req>::Response;
    auto conn = co_await connection(node);
    if (!conn.ok()) co_return conn.error();
    auto c = *conn;
    int16_t v = c->version_for(Req::kApiKey, ApiTraits<Req>::kMin, ApiTraits<Req>::kMax);
    if (v < 0)
      co_return Error{errc::kUnsupportedVersion, std::string(ApiTraits<Req>::kName) + " versions " +
                      std::to_string(ApiTraits<Req>::kMin) + "-" + std::to_string(ApiTraits<Req>::kMax) +
                      " are not supported by " + c->address()};
    wire::Writer w;
    req.encode(w, v);
    auto body = co_await c->roundtrip(Req::kApiKey, v, std::move(w.buffer()), true,
                                      timeout.value_or(cfg_.request_timeout));
    if (!body.ok()) {
      if (!c->alive()) drop(node, c);
      co_return body.error();
    }
    Resp resp;
    wire::Reader r(*body);
    if (!resp.decode(r, v))
      co_return Error{errc::kCorruptMessage, std::string("malformed ") + ApiTraits<Req>::kName + " v" +
                      std::to_string(v) + " response from " + c->address()};
    co_return resp;
  }

  // The live connection to a node (opened on demand), for callers that pipeline
  // raw requests themselves (the producer's sender).
  asio::awaitable<Result<std::shared_ptr<Connection>>> connection(int32_t node);
  void drop(int32_t node, const std::shared_ptr<Connection>& c);
  // Without suspending: the live connection to a node, or null. When there is none,
  // one is opened in the background (at most one at a time per node) and
  // on_settled(connected) runs on the io thread once that attempt has finished. The
  // producer sends only on a connection it holds at drain time, so the requests
  // of a partition reach the wire in the order their sequences were assigned
  // (as Kafka's NetworkClient.ready(): no batch is drained for a node that is not
  // connected).
  std::shared_ptr<Connection> ready_connection(int32_t node, std::function<void(bool)> on_settled);

  // Fetches metadata for these topics (all topics when empty and all_topics).
  asio::awaitable<Result<ClusterMetadata>> refresh_metadata(std::vector<std::string> topics, bool all_topics,
                                                            bool allow_auto_create = false);
  // Cached view (io thread only).
  const ClusterMetadata& metadata() const { return meta_; }
  std::optional<int32_t> leader_for(const std::string& topic, int32_t partition) const;
  int32_t partition_count(const std::string& topic) const;   // 0 when unknown
  int32_t any_broker() const;
  // The authentication error of the last connection attempt (io thread only),
  // until a connection succeeds again: lets the producer and consumer fail at
  // once with the broker's answer instead of retrying into a timeout.
  const std::optional<Error>& authentication_error() const { return auth_error_; }

 private:
  template <typename T>
  T run_impl(asio::awaitable<T> aw, std::optional<std::chrono::steady_clock::time_point> deadline) {
    if (closed_) return T(Error::closed("the client is closed"));
    if (on_io_thread()) return T(Error::invalid("a blocking client call was made on the client's io thread (from a callback)"));
    auto slot = std::make_shared<std::optional<T>>();   // GUARDED_BY(run_mu_)
    {
      std::lock_guard lock(run_mu_);
      ++runs_in_flight_;
    }
    asio::co_spawn(io_, std::move(aw), [this, slot](std::exception_ptr e, T v) {
      std::lock_guard lock(run_mu_);
      if (e) slot->emplace(Error{errc::kUnknownServerError, "client coroutine failed: " + describe(e)});
      else slot->emplace(std::move(v));
      run_cv_.notify_all();
    });
    std::unique_lock lock(run_mu_);
    struct Leave {   // counts this call out on every return path, with run_mu_ held
      size_t& n;
      std::condition_variable& cv;
      ~Leave() { --n; cv.notify_all(); }
    } leave{runs_in_flight_, run_cv_};
    auto done = [&] { return slot->has_value() || joined_; };
    if (deadline) {
      if (!run_cv_.wait_until(lock, *deadline, done)) {
        lock.unlock();
        shutdown();
        lock.lock();   // Leave's destructor runs with the lock held again
        if (!slot->has_value()) return T(Error::timeout("gave up at the close deadline"));
      }
    } else {
      run_cv_.wait(lock, done);
    }
    if (slot->has_value()) return std::move(**slot);
    return T(Error::closed("the client was closed during the call"));
  }
  static std::string describe(std::exception_ptr e);

  ClientConfig cfg_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::thread::id thread_id_;
  std::atomic<bool> closed_{false};
  std::mutex shutdown_mu_;                  // serialises shutdown() callers
  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool joined_ = false;                     // GUARDED_BY(run_mu_): the io thread has exited
  size_t runs_in_flight_ = 0;               // GUARDED_BY(run_mu_)
  std::vector<std::pair<std::string, int>> bootstrap_;
  std::map<int32_t, std::shared_ptr<Connection>> conns_;   // node id; bootstrap = -2 - index
  std::map<int32_t, bool> connecting_;
  std::set<int32_t> opening_;   // nodes ready_connection() is opening in the background
  ClusterMetadata meta_;
  Result<std::shared_ptr<const ConnectionSecurity>> security_;   // built once from cfg_.security
  std::optional<Error> auth_error_;                              // io thread
};

// "h1:9092,h2:9093" -> [(h1, 9092), (h2, 9093)]; empty on a malformed entry.
std::vector<std::pair<std::string, int>> parse_bootstrap(const std::string& s);

}  // namespace millrace::client
