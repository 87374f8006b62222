// Makes this node show what the metadata log says: after every applied change
// of the controller quorum's log (ControllerQuorum's state listener) it brings
// the local topic table to the state's topics (a topic with the controller's
// id and partition count, the state's config overrides; a topic removed from
// the state is removed here), then publishes the metadata image built from the
// state (brokers unfenced, leaders, epochs, replicas) and hands every local
// partition its leadership facts from it. Level-triggered: it compares the
// latest state with the table and does what differs, so a missed step is made
// up at the next one.
//
// Every node holds a log for every partition; a partition of one replica is
// served by the leader the image names, one of several replicas by its Raft
// group (broker/replication/, reconciled after each sync); the others answer
// NOT_LEADER_OR_FOLLOWER.
//
// when_applied(offset, fn) calls fn once the mirror has caught up with offset:
// how a request is answered only when this node shows its own write.
//
// Thread-safety: publish() and when_applied() from any thread; the work runs
// on the mirror's own thread (the topic table's calls block).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "broker/topics/topic_registry.h"
#include "cluster/metadata/metadata_cache.h"
#include "cluster/metadata/state/metadata_state.h"
#include "cluster/partition/partition_manager.h"

namespace millrace::broker {

class MetadataMirror {
 public:
  MetadataMirror(TopicRegistry& topics, cluster::MetadataCache& cache, cluster::PartitionManager& partitions,
                 std::string cluster_id);
  ~MetadataMirror();

  void publish(std::shared_ptr<const cluster::MetadataState> state, int64_t applied, int32_t leader);
  void when_applied(int64_t offset, std::function<void()> fn);
  int64_t mirrored() const;
  // Called on the mirror's thread after every sync (before waiters are told),
  // e.g. to load the offsets topic's groups once it first exists here.
  void set_after_sync(std::function<void()> fn) {
    std::lock_guard lk(mu_);
    after_sync_ = std::move(fn);
  }
  void stop();

 private:
  void run();
  void sync(const cluster::MetadataState& state, int64_t applied, int32_t leader);

  TopicRegistry& topics_;
  cluster::MetadataCache& cache_;
  cluster::PartitionManager& partitions_;
  const std::string cluster_id_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const cluster::MetadataState> latest_;  // GUARDED_BY(mu_)
  int64_t latest_applied_ = -1;                           // GUARDED_BY(mu_)
  int32_t latest_leader_ = -1;                            // GUARDED_BY(mu_)
  int64_t mirrored_ = -1;                                 // GUARDED_BY(mu_)
  std::multimap<int64_t, std::function<void()>> waiters_;  // GUARDED_BY(mu_)
  bool stop_ = false;                                     // GUARDED_BY(mu_)
  std::function<void()> after_sync_;                      // GUARDED_BY(mu_)
  std::set<cluster::TopicId> seen_;  // mirror thread: ids the state has held
  uint64_t version_ = 0;             // mirror thread
  std::thread thread_;
};

}  // namespace millrace::broker
