// Every codec: round trip, the size bound, truncation and damage, and the exact
// framing other clients read (xerial snappy, concatenated gzip/lz4/zstd frames).
#include "protocol/record/codec.h"

#include <gtest/gtest.h>
#include <snappy.h>
#include <zstd.h>

#include <random>
#include <string>
#include <vector>

#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::record {
namespace {

std::vector<uint8_t> sample(size_t n, uint32_t seed = 1) {
  // Compressible but not trivial: words from a small vocabulary plus noise.
  std::mt19937 rng(seed);
  const char* words[] = {"kafka ", "millrace ", "record ", "batch ", "offset ", "leader "};
  std::vector<uint8_t> b;
  while (b.size() < n) {
    std::string w = words[rng() % 6];
    b.insert(b.end(), w.begin(), w.end());
    if (rng() % 7 == 0) b.push_back(static_cast<uint8_t>(rng()));
  }
  b.resize(n);
  return b;
}

class CodecTest : public ::testing::TestWithParam<Compression> {};

TEST_P(CodecTest, RoundTripsManySizes) {
  for (size_t n : {0u, 1u, 100u, 32768u, 32769u, 65536u, 200000u}) {
    auto in = sample(n, static_cast<uint32_t>(n));
    std::vector<uint8_t> packed, out;
    ASSERT_TRUE(compress(GetParam(), in, packed).ok()) << n;
    auto s = decompress(GetParam(), packed, out);
    ASSERT_TRUE(s.ok()) << n << ": " << s.detail;
    EXPECT_EQ(out, in) << n;
  }
}

TEST_P(CodecTest, CompressAppendsAfterExistingBytes) {
  auto in = sample(5000);
  std::vector<uint8_t> packed = {1, 2, 3};
  ASSERT_TRUE(compress(GetParam(), in, packed).ok());
  EXPECT_EQ(packed[0], 1);
  std::vector<uint8_t> out;
  ASSERT_TRUE(decompress(GetParam(), std::span(packed).subspan(3), out).ok());
  EXPECT_EQ(out, in);
}

TEST_P(CodecTest, OutputAtTheLimitPassesOneByteOverFails) {
  std::vector<uint8_t> in(1 << 20, 0);  // 1 MiB of zeros: a tiny compressed input
  std::vector<uint8_t> packed, out;
  ASSERT_TRUE(compress(GetParam(), in, packed).ok());
  EXPECT_TRUE(decompress(GetParam(), packed, out, in.size()).ok());
  EXPECT_EQ(out.size(), in.size());
  auto s = decompress(GetParam(), packed, out, in.size() - 1);
  EXPECT_EQ(s.error, BatchError::kInvalid) << s.detail;
  EXPECT_LE(out.size(), in.size());
  s = decompress(GetParam(), packed, out, 1000);
  EXPECT_EQ(s.error, BatchError::kInvalid);
}

TEST_P(CodecTest, EveryTruncationIsAnErrorNeverACrash) {
  if (GetParam() == Compression::kNone) GTEST_SKIP();
  auto in = sample(70000);
  std::vector<uint8_t> packed, out;
  ASSERT_TRUE(compress(GetParam(), in, packed).ok());
  for (size_t n = 0; n < packed.size(); n += (n < 64 ? 1 : 97)) {
    auto s = decompress(GetParam(), std::span(packed).first(n), out);
    if (GetParam() == Compression::kSnappy) {
      // Xerial framing has no end mark: a cut at a chunk boundary is a valid,
      // shorter stream. It must never reproduce the whole input, though.
      EXPECT_TRUE(!s.ok() || out.size() < in.size()) << "prefix " << n;
    } else {
      EXPECT_FALSE(s.ok()) << "prefix " << n << " of " << packed.size();
    }
  }
  auto s = decompress(GetParam(), std::span(packed).first(packed.size() - 1), out);
  EXPECT_EQ(s.error, BatchError::kCorrupt) << s.detail;
}

TEST_P(CodecTest, ByteFlipsNeverCrash) {
  auto in = sample(20000);
  std::vector<uint8_t> packed, out;
  ASSERT_TRUE(compress(GetParam(), in, packed).ok());
  for (size_t i = 0; i < packed.size(); i += 13) {
    auto c = packed;
    c[i] ^= 0x5a;
    auto s = decompress(GetParam(), c, out, 1 << 20);
    if (s.ok()) {
      EXPECT_LE(out.size(), 1u << 20);
    }
  }
}

std::string codec_name(const ::testing::TestParamInfo<Compression>& info) {
  static constexpr const char* kNames[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  return kNames[static_cast<int>(info.param)];
}

INSTANTIATE_TEST_SUITE_P(Codecs, CodecTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd),
                         codec_name);

TEST(Codec, UnknownCodecIsInvalid) {
  std::vector<uint8_t> out;
  uint8_t b[4] = {1, 2, 3, 4};
  EXPECT_EQ(decompress(static_cast<Compression>(5), b, out).error, BatchError::kInvalid);
  EXPECT_EQ(compress(static_cast<Compression>(7), b, out).error, BatchError::kInvalid);
}

TEST(Codec, GzipCrcMismatchIsCorrupt) {
  auto in = sample(5000);
  std::vector<uint8_t> packed, out;
  ASSERT_TRUE(compress(Compression::kGzip, in, packed).ok());
  packed[packed.size() - 6] ^= 0x01;  // inside the CRC-32 trailer
  EXPECT_EQ(decompress(Compression::kGzip, packed, out).error, BatchError::kCorrupt);
}

TEST(Codec, GzipHasTheGzipMagicAndConcatenatedMembersDecode) {
  auto a = sample(3000, 1), b = sample(4000, 2);
  std::vector<uint8_t> packed, out;
  ASSERT_TRUE(compress(Compression::kGzip, a, packed).ok());
  EXPECT_EQ(packed[0], 0x1f);
  EXPECT_EQ(packed[1], 0x8b);
  ASSERT_TRUE(compress(Compression::kGzip, b, packed).ok());
  ASSERT_TRUE(decompress(Compression::kGzip, packed, out).ok());
  auto both = a;
  both.insert(both.end(), b.begin(), b.end());
  EXPECT_EQ(out, both);
}

TEST(Codec, Lz4AndZstdConcatenatedFramesDecode) {
  for (Compression c : {Compression::kLz4, Compression::kZstd}) {
    auto a = sample(3000, 3), b = sample(100000, 4);
    std::vector<uint8_t> packed, out;
    ASSERT_TRUE(compress(c, a, packed).ok());
    ASSERT_TRUE(compress(c, b, packed).ok());
    ASSERT_TRUE(decompress(c, packed, out).ok());
    auto both = a;
    both.insert(both.end(), b.begin(), b.end());
    EXPECT_EQ(out, both);
  }
}

TEST(Codec, Lz4FrameIsWhatKafkaWrites) {
  auto in = sample(1000);
  std::vector<uint8_t> packed;
  ASSERT_TRUE(compress(Compression::kLz4, in, packed).ok());
  ASSERT_GE(packed.size(), 7u);
  EXPECT_EQ(packed[0], 0x04);  // magic 0x184D2204, little-endian
  EXPECT_EQ(packed[1], 0x22);
  EXPECT_EQ(packed[2], 0x4D);
  EXPECT_EQ(packed[3], 0x18);
  EXPECT_EQ(packed[4], 0x60);  // FLG: version 01, block independence, nothing else
  EXPECT_EQ(packed[5], 0x40);  // BD: 64 KiB blocks
}

// Xerial framing built here by hand from the format, with libsnappy's own API.
std::vector<uint8_t> xerial_by_hand(const std::vector<std::vector<uint8_t>>& chunks) {
  wire::Writer w;
  const uint8_t magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
  w.bytes(magic);
  w.int32(1);
  w.int32(1);
  for (const auto& c : chunks) {
    std::string packed;
    snappy::Compress(reinterpret_cast<const char*>(c.data()), c.size(), &packed);
    w.int32(static_cast<int32_t>(packed.size()));
    w.string(packed);
  }
  return w.buffer();
}

TEST(Codec, SnappyXerialFramingDecodes) {
  auto a = sample(1000, 5), b = sample(50000, 6);
  std::vector<uint8_t> out;
  ASSERT_TRUE(decompress(Compression::kSnappy, xerial_by_hand({a, b}), out).ok());
  auto both = a;
  both.insert(both.end(), b.begin(), b.end());
  EXPECT_EQ(out, both);
}

TEST(Codec, SnappyRawAsLibrdkafkaWritesDecodes) {
  auto in = sample(70000, 7);
  std::string packed;
  snappy::Compress(reinterpret_cast<const char*>(in.data()), in.size(), &packed);
  std::vector<uint8_t> out;
  ASSERT_TRUE(decompress(Compression::kSnappy, std::span(reinterpret_cast<const uint8_t*>(packed.data()), packed.size()), out).ok());
  EXPECT_EQ(out, in);
}

TEST(Codec, SnappyEncodesXerialWith32KiBChunksLikeJava) {
  auto in = sample(100 * 1024, 8);
  std::vector<uint8_t> packed;
  ASSERT_TRUE(compress(Compression::kSnappy, in, packed).ok());
  wire::Reader r(packed);
  auto magic = r.bytes(8);
  EXPECT_EQ(magic[0], 0x82);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(magic.data()) + 1, 6), "SNAPPY");
  EXPECT_EQ(r.int32(), 1);
  EXPECT_EQ(r.int32(), 1);
  std::vector<size_t> chunk_sizes;
  while (!r.at_end()) {
    int32_t len = r.int32();
    auto chunk = r.bytes(static_cast<size_t>(len));
    ASSERT_TRUE(r.ok());
    size_t n = 0;
    ASSERT_TRUE(snappy::GetUncompressedLength(reinterpret_cast<const char*>(chunk.data()), chunk.size(), &n));
    chunk_sizes.push_back(n);
  }
  EXPECT_EQ(chunk_sizes, (std::vector<size_t>{32768, 32768, 32768, 4096}));
}

TEST(Codec, SnappyXerialChunkLongerThanInputIsCorrupt) {
  auto bytes = xerial_by_hand({sample(1000)});
  wire::Writer w(bytes);
  w.patch_int32(16, 100000);
  std::vector<uint8_t> out;
  EXPECT_EQ(decompress(Compression::kSnappy, bytes, out).error, BatchError::kCorrupt);
}

TEST(Codec, SnappyDeclaredLengthAboveLimitIsRefusedBeforeAllocating) {
  // A raw snappy preamble claiming 1 GiB, followed by nothing.
  std::vector<uint8_t> bomb = {0x80, 0x80, 0x80, 0x80, 0x04};
  std::vector<uint8_t> out;
  EXPECT_EQ(decompress(Compression::kSnappy, bomb, out, 1 << 20).error, BatchError::kInvalid);
}

TEST(Codec, ZstdWindowAboveTheCapIsRefused) {
  auto in = sample(1 << 20, 9);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 27);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::vector<uint8_t> packed(ZSTD_compressBound(in.size()));
  ZSTD_outBuffer ob{packed.data(), packed.size(), 0};
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  // Input fed before the end call: the size is unknown when the frame starts,
  // so the encoder keeps the 128 MiB window it was told to use.
  ASSERT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_continue)));
  ZSTD_inBuffer none{nullptr, 0, 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx, &ob, &none, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  packed.resize(ob.pos);
  std::vector<uint8_t> out;
  auto s = decompress(Compression::kZstd, packed, out);
  EXPECT_EQ(s.error, BatchError::kInvalid) << s.detail;
}

}  // namespace
}  // namespace millrace::record
