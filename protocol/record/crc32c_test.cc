#include "protocol/record/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace millrace::record {
namespace {

using CrcFn = uint32_t (*)(uint32_t, const void*, size_t);

class Crc32cPath : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::string name = GetParam();
    if (name == "hardware") {
      if (!crc32c_hardware_available()) GTEST_SKIP() << "CPU has no SSE4.2";
      fn_ = &crc32c_hardware;
    } else if (name == "portable") {
      fn_ = &crc32c_portable;
    } else {
      fn_ = &crc32c;
    }
  }
  uint32_t crc(const std::vector<uint8_t>& b) { return fn_(0, b.data(), b.size()); }
  CrcFn fn_ = nullptr;
};

// RFC 3720 appendix B.4 test vectors.
TEST_P(Crc32cPath, Rfc3720Zeros) { EXPECT_EQ(crc(std::vector<uint8_t>(32, 0)), 0x8A9136AAu); }
TEST_P(Crc32cPath, Rfc3720Ones) { EXPECT_EQ(crc(std::vector<uint8_t>(32, 0xff)), 0x62A8AB43u); }
TEST_P(Crc32cPath, Rfc3720Incrementing) {
  std::vector<uint8_t> b(32);
  for (size_t i = 0; i < 32; ++i) b[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc(b), 0x46DD794Eu);
}
TEST_P(Crc32cPath, Rfc3720Decrementing) {
  std::vector<uint8_t> b(32);
  for (size_t i = 0; i < 32; ++i) b[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(crc(b), 0x113FDB5Cu);
}
TEST_P(Crc32cPath, CheckString) {
  const char* s = "123456789";
  EXPECT_EQ(fn_(0, s, 9), 0xE3069283u);
}
TEST_P(Crc32cPath, EmptyIsIdentity) {
  EXPECT_EQ(fn_(0, nullptr, 0), 0u);
  EXPECT_EQ(fn_(0x12345678u, nullptr, 0), 0x12345678u);
}

// Every length around the 3-stream block sizes and every alignment, split in two
// at a random point, must agree with the bytewise portable loop.
TEST_P(Crc32cPath, AgreesWithPortableAcrossLengthsAlignmentsAndSplits) {
  std::mt19937 rng(42);
  std::vector<uint8_t> buf(3 * 8192 * 2 + 64);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  const size_t lengths[] = {0, 1, 7, 8, 9, 63, 767, 768, 769, 1000, 4096, 16384,
                            3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 3 * 8192 * 2 + 5};
  for (size_t len : lengths) {
    for (size_t align = 0; align < 8; ++align) {
      const uint8_t* p = buf.data() + align;
      uint32_t expect = crc32c_portable(0, p, len);
      ASSERT_EQ(fn_(0, p, len), expect) << "len " << len << " align " << align;
      size_t cut = len ? rng() % len : 0;
      ASSERT_EQ(fn_(fn_(0, p, cut), p + cut, len - cut), expect) << "len " << len << " cut " << cut;
    }
  }
}

TEST_P(Crc32cPath, SingleBitFlipChangesCrc) {
  std::vector<uint8_t> b(16384, 0x5a);
  uint32_t before = crc(b);
  b[9000] ^= 0x10;
  EXPECT_NE(crc(b), before);
}

INSTANTIATE_TEST_SUITE_P(Paths, Crc32cPath, ::testing::Values("hardware", "portable", "dispatch"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace millrace::record
