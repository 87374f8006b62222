#include "cluster/metadata/features.h"

#include <gtest/gtest.h>

namespace millrace::cluster {
namespace {

TEST(Features, OnlyTheLevelsSupportedAreNoOps) {
  EXPECT_EQ(check_feature_update("metadata.version", kMetadataVersion, false, 1), "");
  EXPECT_EQ(check_feature_update("transaction.version", 0, false, 1), "");
  EXPECT_EQ(check_feature_update("kraft.version", 1, true, 1), "");
  EXPECT_EQ(check_feature_update("transaction.version", 2, false, 3),
            "Invalid update version 2 for feature transaction.version. Local controller 3 only supports versions 0-0");
  EXPECT_NE(check_feature_update("metadata.version", 7, false, 1).find("only supports versions 27-27"),
            std::string::npos);
  EXPECT_NE(check_feature_update("kraft.version", 1, false, 1).find("only supports versions 0-0"), std::string::npos)
      << "a static quorum cannot become dynamic";
  EXPECT_NE(check_feature_update("no.such.version", 1, false, 1).find("does not support this feature"),
            std::string::npos);
  EXPECT_NE(check_feature_update("group.version", -1, false, 1).find("negative"), std::string::npos);
}

TEST(Features, FinalizedListsTheRecordedLevelsAboveZeroAndTheQuorumsKraftVersion) {
  const std::map<std::string, int16_t> recorded = {{"metadata.version", kMetadataVersion}, {"group.version", 0}};
  EXPECT_EQ(finalized_features(recorded, false), (std::map<std::string, int16_t>{{"metadata.version", 27}}));
  EXPECT_EQ(finalized_features(recorded, true),
            (std::map<std::string, int16_t>{{"kraft.version", 1}, {"metadata.version", 27}}));
  for (const auto& f : supported_features(false)) EXPECT_LE(f.min, f.max) << f.name;
}

}  // namespace
}  // namespace millrace::cluster
