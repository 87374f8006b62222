#include "cluster/metadata/local_image.h"

namespace millrace::cluster {

std::shared_ptr<const MetadataImage> build_local_image(uint64_t version, const LocalNode& self,
                                                       const std::vector<TopicSpec>& topics) {
  BrokerImage broker{.id = self.node_id, .host = self.host, .port = self.port, .rack = std::nullopt, .fenced = false};
  if (!self.rack.empty()) broker.rack = self.rack;
  std::vector<TopicImage> images;
  images.reserve(topics.size());
  for (const auto& t : topics) {
    TopicImage ti{.name = t.name, .id = t.id, .internal = t.internal, .partitions = {}};
    ti.partitions.reserve(static_cast<size_t>(std::max(0, t.partitions)));
    for (int32_t p = 0; p < t.partitions; ++p)
      ti.partitions.push_back(
          {.index = p, .leader = self.node_id, .leader_epoch = 0, .replicas = {self.node_id}, .isr = {self.node_id}});
    images.push_back(std::move(ti));
  }
  return std::make_shared<const MetadataImage>(version, self.cluster_id, self.node_id, std::vector{broker},
                                               std::move(images));
}

}  // namespace millrace::cluster
