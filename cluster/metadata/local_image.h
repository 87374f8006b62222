// A one-node image built directly (this node the only broker and the
// controller, leading every partition at leader epoch 0 with replicas = ISR =
// {this node}): what the broker published before the controller quorum did,
// kept for tests that need an image without a metadata log. The broker's
// images come from MetadataState::image (broker/controller/metadata_mirror.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cluster/metadata/metadata_image.h"

namespace millrace::cluster {

struct LocalNode {
  int32_t node_id = 1;
  std::string cluster_id;
  std::string host;
  int32_t port = 9092;
  std::string rack;  // empty: none
};

// A topic as the topic table holds it.
struct TopicSpec {
  std::string name;
  TopicId id{};
  int32_t partitions = 0;
  bool internal = false;
};

std::shared_ptr<const MetadataImage> build_local_image(uint64_t version, const LocalNode& self,
                                                       const std::vector<TopicSpec>& topics);

}  // namespace millrace::cluster
