// Feeds the metadata image from the local topic table (today's publisher; the
// controller quorum's metadata log will replace it): on every table change it
// builds a new image (cluster/metadata/local_image.h: the one-node placement
// rule), publishes it, and hands each served partition its leadership facts
// from it (cluster/partition/image_leadership.h), so Produce/Fetch leadership
// checks and Metadata answers read one source. One mutex orders builds, so a
// newer table always gets the higher version.
//
// Thread-safety: publish() from any thread (it is the registry's on_change).
#pragma once

#include <cstdint>
#include <mutex>

#include "broker/topics/topic_registry.h"
#include "cluster/metadata/local_image.h"
#include "cluster/metadata/metadata_cache.h"
#include "cluster/partition/image_leadership.h"

namespace millrace::broker {

class LocalMetadataPublisher {
 public:
  LocalMetadataPublisher(const TopicRegistry& topics, cluster::MetadataCache& cache,
                         cluster::PartitionManager& partitions, cluster::LocalNode self)
      : topics_(topics), cache_(cache), partitions_(partitions), self_(std::move(self)) {}

  void publish() {
    std::lock_guard lock(mu_);
    std::vector<cluster::TopicSpec> specs;
    for (const auto& t : topics_.all()) specs.push_back({t.name, t.id, t.partitions, t.internal});
    auto image = cluster::build_local_image(++version_, self_, specs);
    cache_.publish(image);
    cluster::apply_image_leadership(*image, partitions_);
  }

 private:
  const TopicRegistry& topics_;
  cluster::MetadataCache& cache_;
  cluster::PartitionManager& partitions_;
  const cluster::LocalNode self_;
  std::mutex mu_;
  uint64_t version_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace millrace::broker
