// Leadership facts come from the metadata image: after each image is
// published, every partition of it that this node serves takes its leader,
// leader epoch, replicas and in-sync replicas from the image, so the
// Produce/Fetch/ListOffsets leadership checks (Partition::check_leader) and
// Metadata answers read the same source. Today the local publisher builds the
// image (one node: this node leads at epoch 0, as before); the controller's
// metadata log feeds it later, and nothing here changes.
//
// A partition the image does not name keeps its facts; a partition adopted
// after the last image (PartitionManager::get adopts lazily) starts as its
// sole leader until the next image, which on one node is the same fact.
#pragma once

#include "cluster/metadata/metadata_image.h"
#include "cluster/partition/partition_manager.h"

namespace millrace::cluster {

LeadershipFacts leadership_from(const PartitionImage& p);

// Returns how many served partitions changed facts.
int apply_image_leadership(const MetadataImage& image, PartitionManager& partitions);

}  // namespace millrace::cluster
