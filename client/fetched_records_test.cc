// FetchedRecords: what poll() gets out of one partition's bytes in one Fetch
// response. Batches are built with the real BatchBuilder (CRC included); the
// edge cases are those of a real fetch: a batch cut at the end of the response,
// a record stream spanning two fetches, compressed batches that start before the
// fetch offset, control batches, damaged bytes.
#include "client/fetched_records.h"

#include <gtest/gtest.h>

#include "protocol/record/batch_builder.h"
#include "protocol/record/control_record.h"

namespace millrace::client {
namespace {

using record::Compression;

std::string value_for(int64_t offset) { return "value-" + std::to_string(offset) + std::string(100, 'v'); }

// Appends a batch of `n` records with offsets base..base+n-1: key "k<offset>",
// value value_for(offset), one header "h" = "<offset>".
void add_batch(std::vector<uint8_t>& out, int64_t base, int n, Compression c = Compression::kNone) {
  record::BatchOptions o;
  o.base_offset = base;
  o.compression = c;
  record::BatchBuilder b(o);
  for (int i = 0; i < n; ++i) {
    std::string k = "k" + std::to_string(base + i), v = value_for(base + i), hv = std::to_string(base + i);
    record::Header h{"h", record::as_bytes(hv)};
    b.append(1000 + base + i, record::as_bytes(k), record::as_bytes(v), std::span(&h, 1));
  }
  ASSERT_TRUE(b.finish(out).ok());
}

struct Drained {
  std::vector<ConsumerRecord> records;
  Status status;
};

Drained drain_all(FetchedRecords& f, size_t max = 1000000) {
  Drained d;
  std::vector<uint8_t> scratch;
  d.status = f.drain("t", 3, d.records, max, scratch);
  return d;
}

void expect_offsets(const std::vector<ConsumerRecord>& recs, int64_t first, int64_t last) {
  ASSERT_EQ(recs.size(), static_cast<size_t>(last - first + 1));
  for (size_t i = 0; i < recs.size(); ++i) {
    int64_t off = first + static_cast<int64_t>(i);
    EXPECT_EQ(recs[i].offset, off);
    EXPECT_EQ(recs[i].topic, "t");
    EXPECT_EQ(recs[i].partition, 3);
    EXPECT_EQ(recs[i].key, "k" + std::to_string(off));
    EXPECT_EQ(recs[i].value, value_for(off));
    EXPECT_EQ(recs[i].timestamp_ms, 1000 + off);
    ASSERT_EQ(recs[i].headers.size(), 1u);
    EXPECT_EQ(recs[i].headers[0].key, "h");
    EXPECT_EQ(recs[i].headers[0].value, std::to_string(off));
  }
}

TEST(FetchedRecords, WholeBatchesAreDecodedInOrder) {
  std::vector<uint8_t> bytes;
  add_batch(bytes, 0, 5);
  add_batch(bytes, 5, 5);
  add_batch(bytes, 10, 5);
  FetchedRecords f(nullptr, bytes, 0);
  EXPECT_EQ(f.next_fetch_offset(), 15);
  auto d = drain_all(f);
  ASSERT_TRUE(d.status.ok()) << d.status.message;
  expect_offsets(d.records, 0, 14);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.position(), 15);
}

TEST(FetchedRecords, BatchCutAtTheEndIsLeftForTheNextFetch) {
  std::vector<uint8_t> bytes;
  add_batch(bytes, 0, 5);
  add_batch(bytes, 5, 5);
  size_t whole = bytes.size();
  add_batch(bytes, 10, 5);
  for (size_t cut : {whole + 1, whole + 11, whole + 12, whole + 61, bytes.size() - 1}) {
    FetchedRecords f(nullptr, std::span(bytes.data(), cut), 0);
    EXPECT_EQ(f.next_fetch_offset(), 10) << "cut at " << cut;
    auto d = drain_all(f);
    ASSERT_TRUE(d.status.ok()) << d.status.message;
    expect_offsets(d.records, 0, 9);
    EXPECT_EQ(f.position(), 10);
  }
}

TEST(FetchedRecords, RecordsSpanningTwoFetchesArriveOnceEach) {
  std::vector<uint8_t> log;
  for (int b = 0; b < 6; ++b) add_batch(log, b * 4, 4);
  // The broker returns a byte range that ends mid-batch; the next fetch starts at
  // next_fetch_offset(), i.e. at the start of the cut batch.
  size_t cut = log.size() / 2 + 7;
  FetchedRecords first(nullptr, std::span(log.data(), cut), 0);
  auto a = drain_all(first);
  ASSERT_TRUE(a.status.ok());
  int64_t next = first.next_fetch_offset();
  ASSERT_GT(next, 0);
  ASSERT_LT(next, 24);
  // Find where batch `next` starts in the log (what the broker would send).
  size_t at = 0;
  for (int64_t off = 0; off < next; off += 4) at += record::parse_batch_header(std::span(log).subspan(at)).header.total_size();
  FetchedRecords second(nullptr, std::span(log).subspan(at), next);
  auto b = drain_all(second);
  ASSERT_TRUE(b.status.ok());
  auto all = a.records;
  all.insert(all.end(), b.records.begin(), b.records.end());
  expect_offsets(all, 0, 23);
}

TEST(FetchedRecords, OnlyACutBatchGivesNothing) {
  std::vector<uint8_t> bytes;
  add_batch(bytes, 7, 3);
  for (size_t cut : {size_t{0}, size_t{5}, size_t{12}, bytes.size() - 1}) {
    FetchedRecords f(nullptr, std::span(bytes.data(), cut), 7);
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.next_fetch_offset(), 7);
    auto d = drain_all(f);
    EXPECT_TRUE(d.status.ok());
    EXPECT_TRUE(d.records.empty());
  }
}

class FetchedRecordsCodecs : public ::testing::TestWithParam<Compression> {};

TEST_P(FetchedRecordsCodecs, CompressedBatchStartingBeforeTheFetchOffset) {
  std::vector<uint8_t> bytes;
  add_batch(bytes, 0, 10, GetParam());
  add_batch(bytes, 10, 10, GetParam());
  // Fetch from 6: the first batch starts at 0 and comes whole; 0-5 are skipped.
  FetchedRecords f(nullptr, bytes, 6);
  EXPECT_EQ(f.next_fetch_offset(), 20);
  auto d = drain_all(f);
  ASSERT_TRUE(d.status.ok()) << d.status.message;
  expect_offsets(d.records, 6, 19);
}

INSTANTIATE_TEST_SUITE_P(All, FetchedRecordsCodecs,
                         ::testing::Values(Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd));

TEST(FetchedRecords, ControlBatchesAreSkippedButCounted) {
  std::vector<uint8_t> bytes;
  add_batch(bytes, 0, 3);
  ASSERT_TRUE(record::build_control_batch(record::ControlType::kCommit, 9, 0, 1, 2000, 3, 0, bytes).ok());
  add_batch(bytes, 4, 3);
  ASSERT_TRUE(record::build_control_batch(record::ControlType::kAbort, 9, 0, 1, 2000, 7, 0, bytes).ok());
  FetchedRecords f(nullptr, bytes, 0);
  EXPECT_EQ(f.next_fetch_offset(), 8);
  auto d = drain_all(f);
  ASSERT_TRUE(d.status.ok()) << d.status.message;
  ASSERT_EQ(d.records.size(), 6u);
  std::vector<int64_t> offs;
  for (auto& r : d.records) offs.push_back(r.offset);
  EXPECT_EQ(offs, (std::vector<int64_t>{0, 1, 2, 4, 5, 6}));
  EXPECT_EQ(f.position(), 8);   // past the trailing marker: a commit does not re-read it
}

TEST(FetchedRecords, DamagedBatchStopsWithCorruptMessageAfterTheGoodOnes) {
  std::vector<uint8_t> bytes;
  add_batch(bytes, 0, 5);
  size_t second = bytes.size();
  add_batch(bytes, 5, 5);
  add_batch(bytes, 10, 5);
  bytes[second + 70] ^= 0x01;   // inside the second batch's records: CRC no longer matches
  FetchedRecords f(nullptr, bytes, 0);
  EXPECT_EQ(f.next_fetch_offset(), 15);   // lengths are intact
  auto d = drain_all(f);
  EXPECT_EQ(d.status.code, errc::kCorruptMessage);
  EXPECT_NE(d.status.message.find("t-3 at offset 5"), std::string::npos) << d.status.message;
  expect_offsets(d.records, 0, 4);
  EXPECT_EQ(f.position(), 5);
  EXPECT_FALSE(f.done());
}

TEST(FetchedRecords, MalformedRecordsWithAValidCrcYieldNothingOfThatBatch) {
  std::vector<uint8_t> bytes;
  add_batch(bytes, 0, 2);
  size_t second = bytes.size();
  add_batch(bytes, 2, 4);
  // record_count says 5 but 4 are there; the CRC is recomputed so only the
  // record walk can notice.
  bytes[second + record::kRecordCountOffset + 3] = 5;
  record::update_crc(std::span(bytes).subspan(second));
  FetchedRecords f(nullptr, bytes, 0);
  auto d = drain_all(f);
  EXPECT_EQ(d.status.code, errc::kCorruptMessage);
  expect_offsets(d.records, 0, 1);   // none of the bad batch's four
  EXPECT_EQ(f.position(), 2);
}

TEST(FetchedRecords, DrainStopsBetweenBatchesAtTheLimit) {
  std::vector<uint8_t> bytes;
  for (int b = 0; b < 4; ++b) add_batch(bytes, b * 5, 5);
  FetchedRecords f(nullptr, bytes, 0);
  std::vector<ConsumerRecord> out;
  std::vector<uint8_t> scratch;
  ASSERT_TRUE(f.drain("t", 3, out, 7, scratch).ok());
  EXPECT_EQ(out.size(), 10u);   // two whole batches: the limit is checked between batches
  EXPECT_EQ(f.position(), 10);
  EXPECT_FALSE(f.done());
  ASSERT_TRUE(f.drain("t", 3, out, 100, scratch).ok());
  expect_offsets(out, 0, 19);
  EXPECT_TRUE(f.done());
}

TEST(FetchedRecords, HostileLengthsNeverReadPastTheBytes) {
  std::vector<uint8_t> bytes;
  add_batch(bytes, 0, 3);
  // Every length value at the length field: only lengths that fit are taken, and
  // drain() refuses what does not validate.
  for (int32_t len : {-1, 0, 1, 48, 49, 50, 0x7fffffff}) {
    auto copy = bytes;
    copy[8] = static_cast<uint8_t>(len >> 24);
    copy[9] = static_cast<uint8_t>(len >> 16);
    copy[10] = static_cast<uint8_t>(len >> 8);
    copy[11] = static_cast<uint8_t>(len);
    FetchedRecords f(nullptr, copy, 0);
    auto d = drain_all(f);
    if (!f.done() || !d.status.ok()) {
      EXPECT_EQ(d.status.code, errc::kCorruptMessage) << len;
    }
    EXPECT_TRUE(d.records.empty()) << len;
  }
}

}  // namespace
}  // namespace millrace::client
