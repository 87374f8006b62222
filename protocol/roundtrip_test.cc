// Round trip of every generated message in every valid version: a populated
// sample encodes, decodes to an equal struct, re-encodes to the same bytes,
// and every strict prefix of its encoding fails to decode (cleanly).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "protocol/generated/messages.h"
#include "protocol/generated/testing/samples.h"

namespace millrace::proto {
namespace {

template <typename T>
std::vector<uint8_t> encode(const T& m, int16_t version) {
  wire::Writer w;
  m.encode(w, version);
  return w.buffer();
}

template <typename T>
class RoundTrip : public ::testing::Test {};

using AllTypes = WithAllMessages<::testing::Types>;
TYPED_TEST_SUITE(RoundTrip, AllTypes);

TYPED_TEST(RoundTrip, EveryVersionEncodesDecodesAndReencodesIdentically) {
  using T = TypeParam;
  for (int16_t v = T::kLowestVersion; v <= T::kHighestVersion; ++v) {
    for (int seed : {0, 1}) {
      SCOPED_TRACE(::testing::Message() << "version " << v << " seed " << seed);
      T original;
      testing::fill_sample(original, v, seed);
      std::vector<uint8_t> bytes = encode(original, v);

      T decoded;
      wire::Reader r(bytes);
      ASSERT_TRUE(decoded.decode(r, v));
      EXPECT_TRUE(r.at_end()) << r.remaining() << " bytes left";
      EXPECT_TRUE(decoded == original);
      EXPECT_EQ(encode(decoded, v), bytes);
    }
  }
}

TYPED_TEST(RoundTrip, EveryStrictPrefixFailsToDecode) {
  using T = TypeParam;
  for (int16_t v = T::kLowestVersion; v <= T::kHighestVersion; ++v) {
    T original;
    testing::fill_sample(original, v, 0);
    std::vector<uint8_t> bytes = encode(original, v);
    for (size_t n = 0; n < bytes.size(); ++n) {
      T decoded;
      wire::Reader r(std::span<const uint8_t>(bytes.data(), n));
      EXPECT_FALSE(decoded.decode(r, v)) << "version " << v << " prefix " << n << " of " << bytes.size();
      EXPECT_FALSE(r.ok());
    }
  }
}

TYPED_TEST(RoundTrip, VersionOutsideValidRangeIsRejected) {
  using T = TypeParam;
  std::vector<uint8_t> bytes(64, 0);
  for (int16_t v : {static_cast<int16_t>(T::kLowestVersion - 1), static_cast<int16_t>(T::kHighestVersion + 1)}) {
    T decoded;
    wire::Reader r(bytes);
    EXPECT_FALSE(decoded.decode(r, v)) << "version " << v;
  }
}

TYPED_TEST(RoundTrip, DefaultConstructedEncodesInEveryVersion) {
  using T = TypeParam;
  for (int16_t v = T::kLowestVersion; v <= T::kHighestVersion; ++v) {
    T empty;
    std::vector<uint8_t> bytes = encode(empty, v);
    T decoded;
    wire::Reader r(bytes);
    ASSERT_TRUE(decoded.decode(r, v)) << "version " << v;
    EXPECT_EQ(encode(decoded, v), bytes) << "version " << v;
  }
}

}  // namespace
}  // namespace millrace::proto
