// The accumulator's exact record sizes agree with what the record-batch builder
// writes, for keys, values and headers of every varint width, null or not, and for
// offset and timestamp deltas across varint boundaries.
#include "client/producer_batch.h"

#include <gtest/gtest.h>

#include <random>

#include "protocol/record/batch_builder.h"

namespace millrace::client {
namespace {

std::optional<std::string> maybe(std::mt19937& rng, size_t n) {
  if (rng() % 5 == 0) return std::nullopt;
  return std::string(n, 'k');
}

std::optional<record::Bytes> bytes(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return record::as_bytes(*s);
}

TEST(EncodedRecordSize, MatchesBatchBuilderByteForByte) {
  std::mt19937 rng(20261125);
  const size_t widths[] = {0, 1, 63, 64, 65, 127, 128, 8191, 8192, 20000};
  for (int batch = 0; batch < 200; ++batch) {
    record::BatchBuilder builder(record::BatchOptions{});
    std::vector<uint8_t> empty_out;
    size_t expected = 0;
    int64_t base_ts = 1'700'000'000'000 + static_cast<int64_t>(rng() % 1000);
    int records = 1 + static_cast<int>(rng() % 80);
    for (int i = 0; i < records; ++i) {
      PendingRecord r;
      r.key = maybe(rng, widths[rng() % 10] % 300);
      r.value = maybe(rng, widths[rng() % 10]);
      int hs = static_cast<int>(rng() % 3);
      for (int h = 0; h < hs; ++h) r.headers.push_back({std::string(rng() % 70, 'h'), maybe(rng, rng() % 200)});
      // Deltas cross the 1-, 2- and 3-byte varint boundaries, and may be negative.
      int64_t jitter[] = {0, 63, 64, 8191, 8192, -1, -64, -65, 1'000'000};
      r.timestamp_ms = i == 0 ? base_ts : base_ts + jitter[rng() % 9];
      expected += encoded_record_size(r, i, r.timestamp_ms - base_ts);
      std::vector<record::Header> rh;
      for (auto& h : r.headers) rh.push_back({h.key, bytes(h.value)});
      builder.append(r.timestamp_ms, bytes(r.key), bytes(r.value), rh);
    }
    EXPECT_EQ(builder.uncompressed_records_size(), expected) << "batch " << batch;
  }
}

TEST(EncodedRecordSize, OffsetDeltaWidthCounts) {
  PendingRecord r;
  r.value = std::string(10, 'v');
  EXPECT_EQ(encoded_record_size(r, 64, 0), encoded_record_size(r, 63, 0) + 1);
  EXPECT_LE(encoded_record_size(r, 0, 0), estimate_record_size(r));
}

}  // namespace
}  // namespace millrace::client
