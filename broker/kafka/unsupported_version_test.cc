#include "broker/kafka/unsupported_version.h"

#include <gtest/gtest.h>

namespace millrace::broker {
namespace {

template <typename Resp>
int16_t error_of(const std::optional<proto::ResponseBody>& body) {
  if (!body || !std::holds_alternative<Resp>(*body)) return -1;
  return std::get<Resp>(*body).error_code;
}

TEST(UnsupportedVersionTest, TopLevelErrorCodeCarriesIt) {
  EXPECT_EQ(error_of<proto::InitProducerIdResponse>(unsupported_version_response(22, 5)), 35);
  EXPECT_EQ(error_of<proto::HeartbeatResponse>(unsupported_version_response(12, 4)), 35);
  EXPECT_EQ(error_of<proto::FetchResponse>(unsupported_version_response(1, 7)), 35);
}

TEST(UnsupportedVersionTest, VersionWithoutTopLevelErrorHasNoResponse) {
  EXPECT_FALSE(unsupported_version_response(1, 3));   // Fetch v0-6: per-partition errors only
  EXPECT_FALSE(unsupported_version_response(3, 12));  // Metadata: none at all
  EXPECT_FALSE(unsupported_version_response(10, 5));  // FindCoordinator v4+: per coordinator
}

TEST(UnsupportedVersionTest, VersionTheCodecDoesNotKnowHasNoResponse) {
  EXPECT_FALSE(unsupported_version_response(12, 99));
  EXPECT_FALSE(unsupported_version_response(12, -1));
}

TEST(UnsupportedVersionTest, UnknownApiHasNoResponse) { EXPECT_FALSE(unsupported_version_response(999, 0)); }

}  // namespace
}  // namespace millrace::broker
