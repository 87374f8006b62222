#include "cluster/metadata/features.h"

namespace millrace::cluster {

std::vector<SupportedFeature> supported_features(bool dynamic_quorum) {
  const int16_t kraft = dynamic_quorum ? 1 : 0;
  return {{"eligible.leader.replicas.version", 0, 0},
          {"group.version", 0, 0},
          {"kraft.version", kraft, kraft},
          {"metadata.version", kMetadataVersion, kMetadataVersion},
          {"share.version", 0, 0},
          {"transaction.version", 0, 0}};
}

std::map<std::string, int16_t> finalized_features(const std::map<std::string, int16_t>& recorded,
                                                  bool dynamic_quorum) {
  std::map<std::string, int16_t> out;
  for (const auto& [name, level] : recorded)
    if (level > 0) out[name] = level;
  if (dynamic_quorum) out["kraft.version"] = 1;
  return out;
}

std::string check_feature_update(const std::string& feature, int16_t level, bool dynamic_quorum,
                                 int32_t controller) {
  const std::string where = "Invalid update version " + std::to_string(level) + " for feature " + feature + ". ";
  if (level < 0) return where + "The version must not be negative.";
  for (const SupportedFeature& f : supported_features(dynamic_quorum)) {
    if (f.name != feature) continue;
    if (level < f.min || level > f.max)
      return where + "Local controller " + std::to_string(controller) + " only supports versions " +
             std::to_string(f.min) + "-" + std::to_string(f.max);
    return "";
  }
  return where + "Local controller " + std::to_string(controller) + " does not support this feature.";
}

}  // namespace millrace::cluster
