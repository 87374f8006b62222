// The generic round-trip tests of generated message codecs, shared by every
// set the generator makes (protocol/roundtrip_test.cc: Kafka's messages;
// raft/rpc/roundtrip_test.cc: the internal Raft RPCs). For each type T and
// every valid version: a populated sample encodes, decodes to an equal struct
// and re-encodes to the same bytes; every strict prefix of its encoding fails
// to decode (cleanly); versions outside the valid range are rejected; a
// default-constructed message encodes and decodes.
//
// Use: define the sample hook, include this, instantiate over a type list:
//   template <typename T>
//   void millrace::wire::testing::fill_roundtrip_sample(T& m, int16_t v, int seed) {
//     proto::testing::fill_sample(m, v, seed);
//   }
//   INSTANTIATE_TYPED_TEST_SUITE_P(Kafka, RoundTrip, proto::WithAllMessages<::testing::Types>);
// Test-only; single-threaded.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "protocol/wire/codec.h"

namespace millrace::wire::testing {

// Provided by the including test: the generator's fill_sample for T.
template <typename T>
void fill_roundtrip_sample(T& m, int16_t version, int seed);

template <typename T>
std::vector<uint8_t> encode_message(const T& m, int16_t version) {
  Writer w;
  m.encode(w, version);
  return w.buffer();
}

template <typename T>
class RoundTrip : public ::testing::Test {};

TYPED_TEST_SUITE_P(RoundTrip);

TYPED_TEST_P(RoundTrip, EveryVersionEncodesDecodesAndReencodesIdentically) {
  using T = TypeParam;
  for (int16_t v = T::kLowestVersion; v <= T::kHighestVersion; ++v) {
    for (int seed : {0, 1}) {
      SCOPED_TRACE(::testing::Message() << "version " << v << " seed " << seed);
      T original;
      fill_roundtrip_sample(original, v, seed);
      std::vector<uint8_t> bytes = encode_message(original, v);

      T decoded;
      Reader r(bytes);
      ASSERT_TRUE(decoded.decode(r, v));
      EXPECT_TRUE(r.at_end()) << r.remaining() << " bytes left";
      EXPECT_TRUE(decoded == original);
      EXPECT_EQ(encode_message(decoded, v), bytes);
    }
  }
}

TYPED_TEST_P(RoundTrip, EveryStrictPrefixFailsToDecode) {
  using T = TypeParam;
  for (int16_t v = T::kLowestVersion; v <= T::kHighestVersion; ++v) {
    T original;
    fill_roundtrip_sample(original, v, 0);
    std::vector<uint8_t> bytes = encode_message(original, v);
    for (size_t n = 0; n < bytes.size(); ++n) {
      T decoded;
      Reader r(std::span<const uint8_t>(bytes.data(), n));
      EXPECT_FALSE(decoded.decode(r, v)) << "version " << v << " prefix " << n << " of " << bytes.size();
      EXPECT_FALSE(r.ok());
    }
  }
}

TYPED_TEST_P(RoundTrip, VersionOutsideValidRangeIsRejected) {
  using T = TypeParam;
  std::vector<uint8_t> bytes(64, 0);
  for (int16_t v : {static_cast<int16_t>(T::kLowestVersion - 1), static_cast<int16_t>(T::kHighestVersion + 1)}) {
    T decoded;
    Reader r(bytes);
    EXPECT_FALSE(decoded.decode(r, v)) << "version " << v;
  }
}

TYPED_TEST_P(RoundTrip, DefaultConstructedEncodesInEveryVersion) {
  using T = TypeParam;
  for (int16_t v = T::kLowestVersion; v <= T::kHighestVersion; ++v) {
    T empty;
    std::vector<uint8_t> bytes = encode_message(empty, v);
    T decoded;
    Reader r(bytes);
    ASSERT_TRUE(decoded.decode(r, v)) << "version " << v;
    EXPECT_EQ(encode_message(decoded, v), bytes) << "version " << v;
  }
}

REGISTER_TYPED_TEST_SUITE_P(RoundTrip, EveryVersionEncodesDecodesAndReencodesIdentically,
                            EveryStrictPrefixFailsToDecode, VersionOutsideValidRangeIsRejected,
                            DefaultConstructedEncodesInEveryVersion);

}  // namespace millrace::wire::testing
