#include "protocol/record/produce_validation.h"

#include <gtest/gtest.h>

#include <vector>

#include "protocol/record/batch_builder.h"
#include "protocol/record/control_record.h"
#include "protocol/wire/writer.h"

namespace millrace::record {
namespace {

std::vector<uint8_t> produced(Compression c = Compression::kNone, bool null_key = false) {
  BatchOptions o;
  o.compression = c;
  o.producer_id = 4;
  o.producer_epoch = 0;
  o.base_sequence = 0;
  BatchBuilder b(o);
  b.append(2000, as_bytes("a"), as_bytes("1"));
  b.append(1500, null_key ? std::nullopt : std::optional<Bytes>(as_bytes("b")), as_bytes("2"));
  b.append(2600, as_bytes("c"), as_bytes("3"));
  std::vector<uint8_t> out;
  EXPECT_TRUE(b.finish(out).ok());
  return out;
}

BatchStatus check(const std::vector<uint8_t>& b, ProducedBatchFacts* facts = nullptr) {
  std::vector<uint8_t> scratch;
  ProducedBatchFacts f;
  auto s = validate_produced_batch(b, scratch, f);
  if (facts) *facts = f;
  return s;
}

TEST(ProduceValidation, GoodBatchGivesFacts) {
  for (int c = 0; c < 5; ++c) {
    ProducedBatchFacts f;
    auto s = check(produced(static_cast<Compression>(c)), &f);
    ASSERT_TRUE(s.ok()) << c << ": " << s.detail;
    EXPECT_EQ(f.header.record_count, 3);
    EXPECT_EQ(f.min_timestamp, 1500);
    EXPECT_EQ(f.max_timestamp, 2600);
    EXPECT_FALSE(f.has_null_key);
    EXPECT_GT(f.uncompressed_bytes, 0u);
  }
  ProducedBatchFacts f;
  ASSERT_TRUE(check(produced(Compression::kLz4, /*null_key=*/true), &f).ok());
  EXPECT_TRUE(f.has_null_key);
}

TEST(ProduceValidation, ControlBatchFromAClientIsInvalid) {
  std::vector<uint8_t> b;
  ASSERT_TRUE(build_control_batch(ControlType::kCommit, 1, 0, 0, 0, 0, 0, b).ok());
  auto s = check(b);
  EXPECT_EQ(s.error, BatchError::kInvalid);
  EXPECT_STREQ(s.detail, "clients may not produce control batches");
}

TEST(ProduceValidation, CountNotMatchingLastOffsetDeltaIsInvalid) {
  auto b = produced();
  wire::Writer(b).patch_int32(kLastOffsetDeltaOffset, 5);
  update_crc(b);
  EXPECT_STREQ(check(b).detail, "record_count does not match last_offset_delta");
}

TEST(ProduceValidation, NonConsecutiveOffsetsAreInvalid) {
  // Uncompressed layout (record.h): record 1 starts after record 0's one-byte
  // length and its body; its offset delta follows its length (1 byte),
  // attributes (1) and timestamp delta (-500: 2 bytes of zigzag varint).
  auto b = produced();
  size_t r1 = kBatchHeaderSize + 1 + static_cast<size_t>(b[kBatchHeaderSize] >> 1);
  size_t od = r1 + 1 /*len*/ + 1 /*attr*/ + 2 /*ts delta -500 zigzag: 2 bytes*/;
  ASSERT_EQ(b[od], 0x02);  // zigzag(1)
  b[od] = 0x04;            // zigzag(2)
  update_crc(b);
  EXPECT_STREQ(check(b).detail, "record offsets are not consecutive");
}

TEST(ProduceValidation, TrailingBytesAndBadCrcAreRefused) {
  auto b = produced();
  b.push_back(0);
  EXPECT_STREQ(check(b).detail, "bytes after the batch");
  b.pop_back();
  b[b.size() - 1] ^= 1;
  EXPECT_EQ(check(b).error, BatchError::kCorrupt);
}

TEST(ProduceValidation, OldMagicIsUnsupported) {
  auto b = produced();
  b[kMagicOffset] = 1;
  EXPECT_EQ(check(b).error, BatchError::kUnsupportedMagic);
}

}  // namespace
}  // namespace millrace::record
