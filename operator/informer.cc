#include "operator/informer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <random>

namespace millrace::op {

Informer::Informer(KubeClient& client, Resource resource, std::string ns, std::string selector, Handler on_change)
    : client_(client),
      resource_(std::move(resource)),
      namespace_(std::move(ns)),
      selector_(std::move(selector)),
      on_change_(std::move(on_change)) {}

Informer::~Informer() { stop(); }

void Informer::rewatch_from_stale() {
  stale_rewatch_.store(true);
  std::lock_guard lk(mu_);
  if (cancel_watch_) cancel_watch_();
}

void Informer::upsert(const json& obj) {
  std::lock_guard lk(mu_);
  cache_[key_of(obj)] = obj;
}

void Informer::start() { thread_ = std::thread([this] { run(); }); }

void Informer::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.detach();  // a watch read may block up to its timeout
}

std::string Informer::key_of(const json& obj) {
  const auto& md = obj["metadata"];
  return md.value("namespace", "") + "/" + md.value("name", "");
}

std::optional<json> Informer::get(const std::string& ns, const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = cache_.find(ns + "/" + name);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> Informer::list() const {
  std::lock_guard lk(mu_);
  std::vector<json> out;
  out.reserve(cache_.size());
  for (const auto& [_, v] : cache_) out.push_back(v);
  return out;
}

bool Informer::relist() {
  auto path = resource_.collection(namespace_);
  if (!selector_.empty()) path += "?labelSelector=" + url_encode(selector_);
  auto r = client_.get(path);
  if (!r.ok()) {
    spdlog::warn("informer {}: list: {}", resource_.plural, r.describe());
    return false;
  }
  std::map<std::string, json> fresh;
  for (auto& item : r.body["items"]) {
    // Lists omit kind/apiVersion on items; restore them for readers.
    item["kind"] = resource_.kind;
    item["apiVersion"] = resource_.api_version();
    fresh[key_of(item)] = item;
  }
  std::vector<json> changed;
  {
    std::lock_guard lk(mu_);
    for (const auto& [k, v] : cache_)
      if (!fresh.count(k)) changed.push_back(v);  // deleted while we were not watching
    for (const auto& [k, v] : fresh) {
      auto it = cache_.find(k);
      if (it == cache_.end() || it->second["metadata"]["resourceVersion"] != v["metadata"]["resourceVersion"])
        changed.push_back(v);
    }
    cache_ = std::move(fresh);
    resource_version_ = r.body["metadata"].value("resourceVersion", "");
    if (first_resource_version_.empty()) first_resource_version_ = resource_version_;
  }
  synced_.store(true);
  for (const auto& obj : changed) on_change_(obj);
  return true;
}

void Informer::run() {
  std::mt19937 rng(std::random_device{}());
  bool need_list = true;
  int failures = 0;
  while (!stop_.load()) {
    if (need_list) {
      if (!relist()) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      need_list = false;
    }
    std::string rv;
    {
      std::lock_guard lk(mu_);
      rv = stale_rewatch_.exchange(false) ? first_resource_version_ : resource_version_;
    }
    int timeout = 60 + static_cast<int>(rng() % 30);
    auto path = resource_.collection(namespace_) + "?watch=1&allowWatchBookmarks=true&resourceVersion=" + rv +
                "&timeoutSeconds=" + std::to_string(timeout);
    if (!selector_.empty()) path += "&labelSelector=" + url_encode(selector_);
    bool gone = false;
    auto r = client_.watch(
        path,
        [&](const json& ev) {
          auto type = ev.value("type", "");
          const auto& obj = ev["object"];
          if (type == "ERROR") {
            if (obj.value("code", 0) == 410) gone = true;
            else spdlog::warn("informer {}: watch error event: {}", resource_.plural, obj.dump());
            return false;
          }
          auto orv = obj["metadata"].value("resourceVersion", "");
          {
            std::lock_guard lk(mu_);
            if (!orv.empty()) resource_version_ = orv;
            if (type == "BOOKMARK") return true;
            auto key = key_of(obj);
            if (type == "DELETED") cache_.erase(key);
            else cache_[key] = obj;
          }
          on_change_(obj);
          return true;
        },
        stop_,
        [this](std::function<void()> cancel) {
          std::lock_guard lk(mu_);
          cancel_watch_ = std::move(cancel);
        });
    if (r.gone() || gone) {
      relists_.fetch_add(1);
      spdlog::info("informer {}: watch expired (410 Gone), relisting", resource_.plural);
      need_list = true;
      continue;
    }
    if (!r.error.empty() || (r.status != 200 && r.status != 0)) {
      spdlog::warn("informer {}: watch: {}", resource_.plural, r.describe());
      if (++failures >= 3) {
        need_list = true;
        failures = 0;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    failures = 0;
  }
}

}  // namespace millrace::op
