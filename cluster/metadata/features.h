// Kafka's features (KIP-584), by Kafka's names and levels: what this build
// supports, and UpdateFeatures checked against it.
//
//   metadata.version  27 (4.1-IV1) only: the metadata records Millrace writes
//                     are Kafka 4.1's; the active controller finalizes it in
//                     the metadata log (FeatureLevelRecord) on taking office
//   kraft.version     1 with a dynamic controller quorum (KIP-853,
//                     controller.quorum.bootstrap.servers), else 0; fixed at
//                     format time
//   group.version, transaction.version, eligible.leader.replicas.version,
//   share.version     0 only: KIP-848 groups, transactions, ELR and share
//                     groups are not served
//
// Every feature supports exactly one level, so an UpdateFeatures entry either
// names that level (nothing to do) or is refused with Kafka's message.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace millrace::cluster {

inline constexpr int16_t kMetadataVersion = 27;  // 4.1-IV1

struct SupportedFeature {
  std::string name;
  int16_t min = 0, max = 0;
};

// Every feature this broker supports (ApiVersions' SupportedFeatures).
std::vector<SupportedFeature> supported_features(bool dynamic_quorum);

// The finalized levels (ApiVersions' FinalizedFeatures): the metadata log's
// (`recorded`, FeatureLevelRecord) and kraft.version, which lives with the
// quorum; levels of 0 are not listed, as in Kafka.
std::map<std::string, int16_t> finalized_features(const std::map<std::string, int16_t>& recorded,
                                                  bool dynamic_quorum);

// One UpdateFeatures entry: "" when it changes nothing (the level finalized
// now), else why it is refused, in Kafka's words. `controller`: the node
// answering, named in the message as Kafka names its controller.
std::string check_feature_update(const std::string& feature, int16_t level, bool dynamic_quorum,
                                 int32_t controller);

}  // namespace millrace::cluster
