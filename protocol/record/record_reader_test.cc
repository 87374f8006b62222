// Builder -> reader round trips for every codec, then LevelDB-style damage:
// wrong counts with fixed CRCs, bad varints, truncated records, size limits.
#include "protocol/record/record_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/record/batch_builder.h"
#include "protocol/wire/writer.h"

namespace millrace::record {
namespace {

struct Expected {
  int64_t ts;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

std::vector<Expected> sample_records() {
  return {
      {1000, "k0", "v0", {}},
      {1003, std::nullopt, "value with null key", {{"h1", "x"}, {"h2", std::nullopt}}},
      {999, "tombstone", std::nullopt, {}},
      {1010, "", "", {{"", ""}}},
      {2000, std::string(300, 'k'), std::string(5000, 'v'), {}},
  };
}

std::optional<Bytes> opt_bytes(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return as_bytes(*s);
}

std::vector<uint8_t> build(const std::vector<Expected>& recs, BatchOptions opts) {
  BatchBuilder b(opts);
  for (const auto& r : recs) {
    std::vector<Header> hs;
    for (const auto& [k, v] : r.headers) hs.push_back({k, opt_bytes(v)});
    b.append(r.ts, opt_bytes(r.key), opt_bytes(r.value), hs);
  }
  std::vector<uint8_t> out;
  EXPECT_TRUE(b.finish(out).ok());
  EXPECT_TRUE(b.empty());
  return out;
}

std::optional<std::string> opt_string(const std::optional<Bytes>& b) {
  if (!b) return std::nullopt;
  return std::string(as_string(*b));
}

class RoundTrip : public ::testing::TestWithParam<Compression> {};

TEST_P(RoundTrip, EveryFieldSurvives) {
  BatchOptions opts;
  opts.base_offset = 500;
  opts.producer_id = 77;
  opts.producer_epoch = 3;
  opts.base_sequence = 41;
  opts.transactional = true;
  opts.compression = GetParam();
  auto recs = sample_records();
  auto batch = build(recs, opts);
  ASSERT_EQ(validate_batch(batch), BatchError::kOk);

  std::vector<uint8_t> scratch;
  RecordReader reader(batch, scratch);
  ASSERT_TRUE(reader.status().ok()) << reader.status().detail;
  const BatchHeader& h = reader.header();
  EXPECT_EQ(h.compression(), GetParam());
  EXPECT_TRUE(h.is_transactional());
  EXPECT_FALSE(h.is_control());
  EXPECT_EQ(h.producer_id, 77);
  EXPECT_EQ(h.producer_epoch, 3);
  EXPECT_EQ(h.base_sequence, 41);
  EXPECT_EQ(h.record_count, 5);
  EXPECT_EQ(h.last_offset(), 504);
  EXPECT_EQ(h.base_timestamp, 1000);
  EXPECT_EQ(h.max_timestamp, 2000);
  Record rec;
  size_t i = 0;
  while (reader.next(rec)) {
    ASSERT_LT(i, recs.size());
    EXPECT_EQ(record_offset(h, rec), 500 + static_cast<int64_t>(i));
    EXPECT_EQ(record_timestamp(h, rec), recs[i].ts);
    EXPECT_EQ(opt_string(rec.key), recs[i].key) << i;
    EXPECT_EQ(opt_string(rec.value), recs[i].value) << i;
    ASSERT_EQ(rec.headers.size(), recs[i].headers.size()) << i;
    for (size_t j = 0; j < rec.headers.size(); ++j) {
      EXPECT_EQ(rec.headers[j].key, recs[i].headers[j].first);
      EXPECT_EQ(opt_string(rec.headers[j].value), recs[i].headers[j].second);
    }
    ++i;
  }
  EXPECT_TRUE(reader.status().ok()) << reader.status().detail;
  EXPECT_EQ(i, recs.size());
}

TEST_P(RoundTrip, DecompressionLimitIsEnforced) {
  if (GetParam() == Compression::kNone) GTEST_SKIP();
  BatchOptions opts;
  opts.compression = GetParam();
  auto batch = build(sample_records(), opts);
  std::vector<uint8_t> scratch;
  auto s = for_each_record(batch, [](const Record&) { return true; }, scratch, 1000);
  EXPECT_EQ(s.error, BatchError::kInvalid) << s.detail;
}

std::string codec_name(const ::testing::TestParamInfo<Compression>& info) {
  static constexpr const char* kNames[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  return kNames[static_cast<int>(info.param)];
}

INSTANTIATE_TEST_SUITE_P(Codecs, RoundTrip,
                         ::testing::Values(Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd),
                         codec_name);

// Helpers that edit a batch and re-seal it, so only the edited fact is wrong.
void put_int32(std::vector<uint8_t>& b, size_t at, int32_t v) { wire::Writer(b).patch_int32(at, v); }
void reseal(std::vector<uint8_t>& b) {
  put_int32(b, kBatchLengthOffset, static_cast<int32_t>(b.size() - 12));
  update_crc(b);
}

BatchStatus read_all(const std::vector<uint8_t>& batch, int* count = nullptr) {
  std::vector<uint8_t> scratch;
  int n = 0;
  auto s = for_each_record(batch, [&](const Record&) { ++n; return true; }, scratch);
  if (count) *count = n;
  return s;
}

// A batch whose records section is given byte by byte.
std::vector<uint8_t> batch_with_records(const std::vector<uint8_t>& records, int32_t count) {
  auto b = build({{1, "k", "v", {}}}, {});
  b.resize(kBatchHeaderSize);
  b.insert(b.end(), records.begin(), records.end());
  put_int32(b, kRecordCountOffset, count);
  put_int32(b, kLastOffsetDeltaOffset, count > 0 ? count - 1 : 0);
  reseal(b);
  return b;
}

TEST(RecordReader, RecordCountAboveActualIsInvalid) {
  auto b = build(sample_records(), {});
  put_int32(b, kRecordCountOffset, 6);
  update_crc(b);
  ASSERT_EQ(validate_batch(b), BatchError::kOk);
  int n = 0;
  auto s = read_all(b, &n);
  EXPECT_EQ(s.error, BatchError::kInvalid);
  EXPECT_STREQ(s.detail, "fewer records than record_count");
  EXPECT_EQ(n, 5);
}

TEST(RecordReader, RecordCountBelowActualIsInvalid) {
  auto b = build(sample_records(), {});
  put_int32(b, kRecordCountOffset, 4);
  update_crc(b);
  int n = 0;
  auto s = read_all(b, &n);
  EXPECT_EQ(s.error, BatchError::kInvalid);
  EXPECT_STREQ(s.detail, "bytes after the last record");
  EXPECT_EQ(n, 4);
}

TEST(RecordReader, EveryTruncationOfTheRecordsIsInvalid) {
  auto whole = build(sample_records(), {});
  for (size_t n = kBatchHeaderSize; n < whole.size(); ++n) {
    std::vector<uint8_t> b(whole.begin(), whole.begin() + static_cast<long>(n));
    reseal(b);
    ASSERT_EQ(validate_batch(b), BatchError::kOk);
    EXPECT_EQ(read_all(b).error, BatchError::kInvalid) << n;
  }
}

TEST(RecordReader, TruncatedBatchIsTruncated) {
  auto b = build(sample_records(), {});
  b.pop_back();
  EXPECT_EQ(read_all(b).error, BatchError::kTruncated);
}

TEST(RecordReader, OldMagicIsUnsupported) {
  auto b = build(sample_records(), {});
  b[kMagicOffset] = 1;
  EXPECT_EQ(read_all(b).error, BatchError::kUnsupportedMagic);
}

TEST(RecordReader, OverlongVarintIsInvalid) {
  auto s = read_all(batch_with_records({0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 1));
  EXPECT_EQ(s.error, BatchError::kInvalid);
  EXPECT_STREQ(s.detail, "bad record length varint");
}

TEST(RecordReader, NegativeRecordLengthIsInvalid) {
  auto s = read_all(batch_with_records({0x01 /* zigzag -1 */}, 1));
  EXPECT_STREQ(s.detail, "record length out of range");
}

// Record body: attributes 0, ts delta 0, offset delta 0, then the key length.
TEST(RecordReader, KeyLengthBelowMinusOneIsInvalid) {
  auto s = read_all(batch_with_records({0x0a, 0x00, 0x00, 0x00, 0x03 /* -2 */, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, 1));
  EXPECT_EQ(s.error, BatchError::kInvalid);
  EXPECT_STREQ(s.detail, "bad record key");
}

TEST(RecordReader, KeyLongerThanRecordIsInvalid) {
  auto s = read_all(batch_with_records({0x0a, 0x00, 0x00, 0x00, 0x20 /* 16 */, 0x00, 0x00, 0x00, 0x00, 0x00}, 1));
  EXPECT_STREQ(s.detail, "bad record key");
}

TEST(RecordReader, NullHeaderKeyIsInvalid) {
  // null key, null value, one header with key length -1.
  auto s = read_all(batch_with_records({0x10, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x01, 0x01}, 1));
  EXPECT_STREQ(s.detail, "bad record header key");
}

TEST(RecordReader, HugeHeaderCountIsInvalidWithoutAllocating) {
  auto s = read_all(batch_with_records({0x10, 0x00, 0x00, 0x00, 0x01, 0x01, 0xfe, 0xff, 0xff, 0xff, 0x0f}, 1));
  EXPECT_STREQ(s.detail, "bad record header count");
}

TEST(RecordReader, RecordLengthLargerThanFieldsIsInvalid) {
  // Minimal record (7 bytes of fields) declared as 8 bytes, with a spare byte.
  auto s = read_all(batch_with_records({0x10, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00}, 1));
  EXPECT_STREQ(s.detail, "record length does not match its fields");
}

TEST(RecordReader, MinimalRecordReads) {
  // length 6: attributes, ts delta, offset delta, null key, null value, 0 headers.
  int n = 0;
  auto s = read_all(batch_with_records({0x0c, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00}, 1), &n);
  EXPECT_TRUE(s.ok()) << s.detail;
  EXPECT_EQ(n, 1);
}

TEST(RecordReader, DamagedCompressedRecordsAreCorrupt) {
  BatchOptions opts;
  opts.compression = Compression::kGzip;
  auto b = build(sample_records(), opts);
  b[b.size() - 5] ^= 0xff;  // the gzip CRC-32 trailer
  update_crc(b);
  EXPECT_EQ(read_all(b).error, BatchError::kCorrupt);
}

TEST(RecordReader, UnknownCodecIsInvalid) {
  auto b = build(sample_records(), {});
  b[kAttributesOffset + 1] |= 0x07;
  update_crc(b);
  EXPECT_EQ(read_all(b).error, BatchError::kInvalid);
}

TEST(RecordReader, StopsWhenTheCallbackSaysSo) {
  auto b = build(sample_records(), {});
  std::vector<uint8_t> scratch;
  int n = 0;
  auto s = for_each_record(b, [&](const Record&) { return ++n < 2; }, scratch);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(n, 2);
}

TEST(RecordReader, LogAppendTimeGivesEveryRecordMaxTimestamp) {
  auto b = build(sample_records(), {});
  set_max_timestamp_log_append(b, 123456);
  ASSERT_EQ(validate_batch(b), BatchError::kOk);
  std::vector<uint8_t> scratch;
  RecordReader reader(b, scratch);
  Record rec;
  int n = 0;
  while (reader.next(rec)) {
    EXPECT_EQ(record_timestamp(reader.header(), rec), 123456);
    ++n;
  }
  EXPECT_EQ(n, 5);
}

TEST(BatchBuilder, EmptyBuilderRefusesToFinish) {
  BatchBuilder b({});
  std::vector<uint8_t> out = {9};
  EXPECT_EQ(b.finish(out).error, BatchError::kInvalid);
  EXPECT_EQ(out.size(), 1u);
}

TEST(BatchBuilder, AppendsBatchesBackToBack) {
  std::vector<uint8_t> out;
  BatchOptions opts;
  BatchBuilder b(opts);
  b.append(1, as_bytes("a"), as_bytes("1"));
  ASSERT_TRUE(b.finish(out).ok());
  size_t first = out.size();
  b.append(2, as_bytes("b"), as_bytes("2"));
  b.append(3, as_bytes("c"), as_bytes("3"));
  ASSERT_TRUE(b.finish(out).ok());
  EXPECT_EQ(validate_batch(out), BatchError::kOk);
  auto second = std::span<const uint8_t>(out).subspan(first);
  EXPECT_EQ(validate_batch(second), BatchError::kOk);
  EXPECT_EQ(parse_batch_header(second).header.record_count, 2);
  EXPECT_EQ(parse_batch_header(second).header.base_timestamp, 2);
}

}  // namespace
}  // namespace millrace::record
