#include "protocol/record/recompress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/record/batch_builder.h"
#include "protocol/record/record_reader.h"

namespace millrace::record {
namespace {

std::vector<uint8_t> sample_batch(Compression c) {
  BatchOptions o;
  o.base_offset = 900;
  o.partition_leader_epoch = 4;
  o.producer_id = 12;
  o.producer_epoch = 2;
  o.base_sequence = 30;
  o.transactional = true;
  o.compression = c;
  BatchBuilder b(o);
  std::string v(3000, 'v');
  Header hs[] = {{"h", as_bytes("x")}};
  b.append(5000, as_bytes("a"), as_bytes(v), hs);
  b.append(4990, std::nullopt, as_bytes("b"));
  b.append(5100, as_bytes("c"), std::nullopt);
  std::vector<uint8_t> out;
  EXPECT_TRUE(b.finish(out).ok());
  return out;
}

std::vector<std::string> dump(std::span<const uint8_t> batch) {
  std::vector<uint8_t> scratch;
  std::vector<std::string> lines;
  RecordReader r(batch, scratch);
  Record rec;
  while (r.next(rec)) {
    std::string line = std::to_string(record_offset(r.header(), rec)) + " " +
                       std::to_string(record_timestamp(r.header(), rec)) + " " +
                       (rec.key ? std::string(as_string(*rec.key)) : "null") + " " +
                       (rec.value ? std::to_string(rec.value->size()) : "null") + " " +
                       std::to_string(rec.headers.size());
    lines.push_back(line);
  }
  EXPECT_TRUE(r.status().ok()) << r.status().detail;
  return lines;
}

TEST(Recompress, EveryCodecToEveryCodecKeepsRecordsAndHeaderFields) {
  for (int from = 0; from < 5; ++from) {
    auto in = sample_batch(static_cast<Compression>(from));
    for (int to = 0; to < 5; ++to) {
      std::vector<uint8_t> out, scratch;
      auto s = recompress_batch(in, static_cast<Compression>(to), out, scratch);
      ASSERT_TRUE(s.ok()) << from << "->" << to << ": " << s.detail;
      ASSERT_EQ(validate_batch(out), BatchError::kOk) << from << "->" << to;
      auto a = parse_batch_header(in).header, b = parse_batch_header(out).header;
      EXPECT_EQ(static_cast<int>(b.compression()), to);
      EXPECT_EQ(b.base_offset, a.base_offset);
      EXPECT_EQ(b.partition_leader_epoch, a.partition_leader_epoch);
      EXPECT_EQ(b.last_offset_delta, a.last_offset_delta);
      EXPECT_EQ(b.base_timestamp, a.base_timestamp);
      EXPECT_EQ(b.max_timestamp, a.max_timestamp);
      EXPECT_EQ(b.producer_id, a.producer_id);
      EXPECT_EQ(b.producer_epoch, a.producer_epoch);
      EXPECT_EQ(b.base_sequence, a.base_sequence);
      EXPECT_EQ(b.record_count, a.record_count);
      EXPECT_TRUE(b.is_transactional());
      EXPECT_EQ(dump(out), dump(in));
      if (from == 0 && to == 0) {
        EXPECT_EQ(out, in);
      }
    }
  }
}

TEST(Recompress, BadInputLeavesOutputUntouched) {
  auto in = sample_batch(Compression::kNone);
  in[kRecordCountOffset + 3] = 9;  // claims 9 records
  update_crc(in);
  std::vector<uint8_t> out = {1, 2}, scratch;
  EXPECT_EQ(recompress_batch(in, Compression::kLz4, out, scratch).error, BatchError::kInvalid);
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 2}));
}

}  // namespace
}  // namespace millrace::record
