// An informer: keeps a local cache of one resource type (optionally one
// namespace and a label selector) by listing it and then watching from the
// list's resourceVersion, with bookmarks. When the server says the watch's
// resourceVersion is too old (410 Gone, as a status or as an ERROR event) it
// lists again; a broken stream resumes from the last seen resourceVersion.
// Every add, update or delete calls on_change with the object. Runs its own
// thread; get()/list() are safe from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "operator/kube_client.h"

namespace millrace::op {

class Informer {
 public:
  using Handler = std::function<void(const json& obj)>;

  Informer(KubeClient& client, Resource resource, std::string namespace_, std::string label_selector,
           Handler on_change);
  ~Informer();

  void start();
  void stop();
  bool synced() const { return synced_.load(); }
  std::optional<json> get(const std::string& ns, const std::string& name) const;
  std::vector<json> list() const;
  uint64_t relists() const { return relists_.load(); }  // lists after the first one
  const Resource& resource() const { return resource_; }

  // Test hook: the next watch resumes from the first list's resourceVersion,
  // which an API server that has compacted since answers with 410 Gone.
  void rewatch_from_stale();
  // Puts an object the operator just wrote into the cache ahead of its watch event.
  void upsert(const json& obj);

 private:
  void run();
  bool relist();
  static std::string key_of(const json& obj);

  KubeClient& client_;
  Resource resource_;
  std::string namespace_, selector_;
  Handler on_change_;
  mutable std::mutex mu_;
  std::map<std::string, json> cache_;
  std::string resource_version_, first_resource_version_;
  std::atomic<bool> synced_{false}, stop_{false}, stale_rewatch_{false};
  std::atomic<uint64_t> relists_{0};
  std::function<void()> cancel_watch_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace millrace::op
