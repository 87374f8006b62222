#include "broker/controller/metadata_mirror.h"

#include <spdlog/spdlog.h>

#include <future>

#include "cluster/partition/image_leadership.h"

namespace millrace::broker {

MetadataMirror::MetadataMirror(TopicRegistry& topics, cluster::MetadataCache& cache,
                               cluster::PartitionManager& partitions, std::string cluster_id)
    : topics_(topics), cache_(cache), partitions_(partitions), cluster_id_(std::move(cluster_id)) {
  thread_ = std::thread([this] { run(); });
}

MetadataMirror::~MetadataMirror() { stop(); }

void MetadataMirror::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetadataMirror::publish(std::shared_ptr<const cluster::MetadataState> state, int64_t applied, int32_t leader) {
  {
    std::lock_guard lk(mu_);
    latest_ = std::move(state);
    latest_applied_ = applied;
    latest_leader_ = leader;
  }
  cv_.notify_all();
}

void MetadataMirror::when_applied(int64_t offset, std::function<void()> fn) {
  {
    std::lock_guard lk(mu_);
    if (offset > mirrored_) {
      waiters_.emplace(offset, std::move(fn));
      return;
    }
  }
  fn();
}

int64_t MetadataMirror::mirrored() const {
  std::lock_guard lk(mu_);
  return mirrored_;
}

void MetadataMirror::run() {
  for (;;) {
    std::shared_ptr<const cluster::MetadataState> state;
    int64_t applied;
    int32_t leader;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return stop_ || latest_; });
      if (stop_) return;
      state = std::move(latest_);
      latest_.reset();
      applied = latest_applied_;
      leader = latest_leader_;
    }
    sync(*state, applied, leader);
    std::function<void()> after;
    {
      std::lock_guard lk(mu_);
      after = after_sync_;
    }
    if (after) after();
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lk(mu_);
      mirrored_ = std::max(mirrored_, applied);
      auto end = waiters_.upper_bound(mirrored_);
      for (auto it = waiters_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
      waiters_.erase(waiters_.begin(), end);
    }
    for (auto& fn : ready) fn();
  }
}

namespace {

cluster::TopicError apply_blocking(TopicRegistry& topics, cluster::TopicCommand cmd) {
  std::promise<cluster::TopicError> p;
  auto f = p.get_future();
  topics.submit(std::move(cmd), [&p](cluster::TopicError e) { p.set_value(std::move(e)); });
  return f.get();
}

}  // namespace

void MetadataMirror::sync(const cluster::MetadataState& state, int64_t applied, int32_t leader) {
  std::map<std::string, cluster::TopicInfo> have;
  for (auto& t : topics_.all()) have.emplace(t.name, std::move(t));
  auto note = [&](const char* what, const std::string& name, const cluster::TopicError& e) {
    if (!e.ok())
      spdlog::error("event=metadata_mirror_failed action={} topic={} offset={} error={} message=\"{}\"", what, name,
                    applied, e.code, e.message);
  };
  for (const auto& [id, t] : state.topics()) {
    seen_.insert(id);
    int32_t count = 0;
    while (t.partitions.count(count)) ++count;
    std::map<std::string, std::string> configs;
    if (auto c = state.configs().find({cluster::kTopicResource, t.name}); c != state.configs().end()) configs = c->second;
    auto h = have.find(t.name);
    if (h != have.end() && h->second.id != id) {
      note("remove", t.name, apply_blocking(topics_, cluster::DeleteTopic{t.name, h->second.id}));
      have.erase(h);
      h = have.end();
    }
    if (h == have.end()) {
      bool internal = t.name.rfind("__", 0) == 0;
      note("create", t.name, apply_blocking(topics_, cluster::CreateTopic{t.name, id, count, configs, internal}));
      continue;
    }
    if (count > h->second.partitions)
      note("add_partitions", t.name, apply_blocking(topics_, cluster::AddPartitions{t.name, count}));
    if (configs != h->second.configs) {
      std::map<std::string, std::optional<std::string>> changes(configs.begin(), configs.end());
      note("alter_configs", t.name, apply_blocking(topics_, cluster::AlterConfigs{t.name, changes, true}));
    }
  }
  for (const auto& [name, info] : have)
    if (seen_.count(info.id) && !state.topic(name))
      note("remove", name, apply_blocking(topics_, cluster::DeleteTopic{name, info.id}));
  auto image = std::make_shared<const cluster::MetadataImage>(state.image(++version_, cluster_id_, leader, "PLAINTEXT"));
  cache_.publish(image);
  cluster::apply_image_leadership(*image, partitions_);
}

}  // namespace millrace::broker
