#include "client/cluster.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/redirect_error.hpp>

#include <algorithm>
#include <sstream>

namespace millrace::client {

std::vector<std::pair<std::string, int>> parse_bootstrap(const std::string& s) {
  std::vector<std::pair<std::string, int>> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    auto pos = item.rfind(':');
    if (pos == std::string::npos || pos == 0 || pos + 1 >= item.size()) return {};
    std::string host = item.substr(0, pos);
    if (host.starts_with("PLAINTEXT://")) host = host.substr(12);
    int port = 0;
    for (char c : item.substr(pos + 1)) {
      if (c < '0' || c > '9') return {};
      port = port * 10 + (c - '0');
      if (port > 65535) return {};
    }
    out.emplace_back(host, port);
  }
  return out;
}

Cluster::Cluster(ClientConfig cfg)
    : cfg_(std::move(cfg)),
      work_(asio::make_work_guard(io_)),
      bootstrap_(parse_bootstrap(cfg_.bootstrap_servers)),
      security_(make_connection_security(cfg_.security)) {
  thread_ = std::thread([this] { io_.run(); });
  thread_id_ = thread_.get_id();
}

Cluster::~Cluster() { shutdown(); }

void Cluster::shutdown() {
  std::lock_guard serial(shutdown_mu_);
  closed_ = true;
  if (!thread_.joinable()) return;
  // Stop first, then join: no handler runs after this, so coroutines of the owner
  // (producer, consumer) never resume against a half-destroyed object. Their frames
  // are destroyed with the io_context, without resuming.
  work_.reset();
  io_.stop();
  thread_.join();
  // Callers blocked in run() whose coroutine will now never finish get CLIENT_CLOSED.
  std::lock_guard lock(run_mu_);
  joined_ = true;
  run_cv_.notify_all();
}

void Cluster::close(std::chrono::milliseconds timeout) {
  closed_ = true;
  {
    std::unique_lock lock(run_mu_);
    run_cv_.wait_for(lock, timeout, [&] { return runs_in_flight_ == 0 || joined_; });
  }
  shutdown();
}

std::string Cluster::describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

asio::awaitable<Result<std::shared_ptr<Connection>>> Cluster::connection(int32_t node) {
  if (!security_.ok()) co_return security_.error();
  if (bootstrap_.empty()) co_return Error::invalid("no valid bootstrap server in '" + cfg_.bootstrap_servers + "' (expected host:port[,host:port])");
  std::vector<int32_t> candidates;
  if (node == kAnyNode) {
    for (auto& [id, c] : conns_)
      if (c->alive()) co_return c;
    for (auto& [id, b] : meta_.brokers) candidates.push_back(id);
    for (size_t i = 0; i < bootstrap_.size(); ++i) candidates.push_back(-2 - static_cast<int32_t>(i));
  } else {
    candidates.push_back(node);
  }
  Error last = Error::network("no broker reachable");
  for (int32_t id : candidates) {
    // Another coroutine may be connecting to this node: wait for it.
    for (int i = 0; i < 1000 && connecting_[id]; ++i) {
      asio::steady_timer t(io_);
      t.expires_after(std::chrono::milliseconds(5));
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    auto it = conns_.find(id);
    if (it != conns_.end() && it->second->alive()) co_return it->second;
    std::string host;
    int port = 0;
    if (id <= -2) {
      auto& b = bootstrap_[static_cast<size_t>(-2 - id)];
      host = b.first;
      port = b.second;
    } else {
      auto b = meta_.brokers.find(id);
      if (b == meta_.brokers.end()) {
        last = Error{errc::kLeaderNotAvailable, "broker " + std::to_string(id) + " is not in the metadata"};
        continue;
      }
      host = b->second.host;
      port = b->second.port;
    }
    auto c = std::make_shared<Connection>(io_, cfg_.client_id, host, port, *security_);
    connecting_[id] = true;
    Error e = co_await c->connect(cfg_.connect_timeout);
    connecting_[id] = false;
    if (e.ok()) {
      auth_error_.reset();
      conns_[id] = c;
      co_return c;
    }
    if (is_authentication_error(e.code)) {
      auth_error_ = e;
      co_return e;   // another broker of the same cluster would refuse us the same way
    }
    last = e;
  }
  co_return last;
}

std::shared_ptr<Connection> Cluster::ready_connection(int32_t node, std::function<void(bool)> on_settled) {
  auto it = conns_.find(node);
  if (it != conns_.end() && it->second->alive()) return it->second;
  if (!opening_.insert(node).second) return nullptr;   // already being opened
  asio::co_spawn(io_, [this, node, on_settled = std::move(on_settled)]() -> asio::awaitable<void> {
    auto c = co_await connection(node);
    opening_.erase(node);
    if (on_settled) on_settled(c.ok());
  }, asio::detached);
  return nullptr;
}

void Cluster::drop(int32_t node, const std::shared_ptr<Connection>& c) {
  auto it = conns_.find(node);
  if (it != conns_.end() && it->second == c) conns_.erase(it);
  if (node == kAnyNode)
    for (auto i = conns_.begin(); i != conns_.end();) i = (i->second == c) ? conns_.erase(i) : std::next(i);
}

asio::awaitable<Result<ClusterMetadata>> Cluster::refresh_metadata(std::vector<std::string> topics, bool all_topics,
                                                                   bool allow_auto_create) {
  proto::MetadataRequest req;
  if (all_topics) {
    req.topics.reset();
  } else {
    req.topics.emplace();
    for (auto& t : topics) {
      proto::MetadataRequest::MetadataRequestTopic mt;
      mt.name = t;
      req.topics->push_back(std::move(mt));
    }
  }
  req.allow_auto_topic_creation = allow_auto_create;
  auto resp = co_await call(kAnyNode, req);
  if (!resp.ok()) co_return resp.error();
  ClusterMetadata m;
  m.cluster_id = resp->cluster_id.value_or("");
  m.controller_id = resp->controller_id;
  for (auto& b : resp->brokers) m.brokers[b.node_id] = BrokerInfo{b.node_id, b.host, b.port, b.rack};
  for (auto& t : resp->topics) {
    TopicInfo ti;
    ti.name = t.name.value_or("");
    ti.error_code = t.error_code;
    ti.internal = t.is_internal;
    for (auto& p : t.partitions)
      ti.partitions.push_back(PartitionInfo{p.partition_index, p.leader_id, p.leader_epoch, p.error_code,
                                            p.replica_nodes, p.isr_nodes, p.offline_replicas});
    std::sort(ti.partitions.begin(), ti.partitions.end(),
              [](auto& a, auto& b) { return a.partition < b.partition; });
    m.topics[ti.name] = ti;
  }
  // Merge into the cache: brokers replaced, listed topics replaced.
  meta_.cluster_id = m.cluster_id;
  meta_.controller_id = m.controller_id;
  if (!m.brokers.empty()) meta_.brokers = m.brokers;
  if (all_topics) meta_.topics.clear();
  for (auto& [name, t] : m.topics) {
    if (t.error_code == 0) meta_.topics[name] = t;
    else meta_.topics.erase(name);
  }
  co_return m;
}

std::optional<int32_t> Cluster::leader_for(const std::string& topic, int32_t partition) const {
  auto it = meta_.topics.find(topic);
  if (it == meta_.topics.end()) return std::nullopt;
  for (auto& p : it->second.partitions)
    if (p.partition == partition) {
      if (p.leader < 0) return std::nullopt;
      return p.leader;
    }
  return std::nullopt;
}

int32_t Cluster::partition_count(const std::string& topic) const {
  auto it = meta_.topics.find(topic);
  return it == meta_.topics.end() ? 0 : static_cast<int32_t>(it->second.partitions.size());
}

int32_t Cluster::any_broker() const { return meta_.brokers.empty() ? kAnyNode : meta_.brokers.begin()->first; }

}  // namespace millrace::client
