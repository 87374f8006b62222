#include "cluster/partition/image_leadership.h"

namespace millrace::cluster {

LeadershipFacts leadership_from(const PartitionImage& p) {
  return LeadershipFacts{p.leader, LeaderEpoch(p.leader_epoch), p.replicas, p.isr};
}

int apply_image_leadership(const MetadataImage& image, PartitionManager& partitions) {
  int changed = 0;
  for (const auto& [name, topic] : image.topics())
    for (const auto& p : topic.partitions) {
      auto served = partitions.get({name, p.index});
      if (!served) continue;  // no replica here
      auto facts = leadership_from(p);
      if (served->image_facts() == facts) continue;
      served->set_leadership(std::move(facts));
      ++changed;
    }
  return changed;
}

}  // namespace millrace::cluster
