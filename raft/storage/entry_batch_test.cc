// entry_batch: stamping data batches, building and recognising Raft's control
// batches, LeaderChangeMessage v0.
#include "raft/storage/entry_batch.h"

#include <gtest/gtest.h>

#include "protocol/record/batch_header.h"
#include "protocol/record/control_record.h"
#include "protocol/record/record_reader.h"
#include "storage/test_util.h"

namespace millrace::raft {
namespace {

Payload bytes_of(std::vector<uint8_t> v) { return std::make_shared<const std::vector<uint8_t>>(std::move(v)); }

Entry data_entry(int64_t first, int n, int32_t term) {
  return Entry{Index(first), Index(first + n - 1), Term(term), EntryType::kData,
               bytes_of(storage::testing::simple_batch(n))};
}

TEST(EntryBatchTest, LeaderChangeRoundTrip) {
  LeaderChange lc{NodeId(2), {NodeId(1), NodeId(2), NodeId(3)}, {NodeId(2), NodeId(3)}};
  auto b = encode_leader_change(lc);
  // Version 0, leader 2, compact arrays (n + 1), one empty tag buffer per voter and at the end.
  EXPECT_EQ(b.size(), 2u + 4 + (1 + 3 * 5) + (1 + 2 * 5) + 1);
  LeaderChange back;
  ASSERT_TRUE(decode_leader_change(b, &back));
  EXPECT_EQ(back, lc);
}

TEST(EntryBatchTest, LeaderChangeRefusesEveryTruncationAndTrailingBytes) {
  auto b = encode_leader_change(LeaderChange{NodeId(1), {NodeId(1)}, {NodeId(1)}});
  LeaderChange out;
  for (size_t n = 0; n < b.size(); ++n)
    EXPECT_FALSE(decode_leader_change(std::span<const uint8_t>(b).first(n), &out)) << n;
  b.push_back(0);
  EXPECT_FALSE(decode_leader_change(b, &out));
}

TEST(EntryBatchTest, DataEntryIsStampedAndItsCrcStillHolds) {
  Entry e = data_entry(100, 3, 7);
  std::vector<uint8_t> out;
  ASSERT_TRUE(entry_to_batch(e, 0, out).ok());
  auto h = record::parse_batch_header(out).header;
  EXPECT_EQ(h.base_offset, 100);
  EXPECT_EQ(h.partition_leader_epoch, 7);
  // baseOffset and partitionLeaderEpoch are outside the CRC: stamping keeps it valid.
  EXPECT_EQ(record::validate_batch(out), record::BatchError::kOk);
  auto back = batch_to_entry(out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->first, Index(100));
  EXPECT_EQ(back->last, Index(102));
  EXPECT_EQ(back->term, Term(7));
  EXPECT_EQ(back->type, EntryType::kData);
  EXPECT_EQ(*back->data, out);
}

TEST(EntryBatchTest, DataEntryWithWrongRecordCountIsRefused) {
  Entry e = data_entry(100, 3, 7);
  e.last = Index(103);
  std::vector<uint8_t> out;
  auto st = entry_to_batch(e, 0, out);
  EXPECT_EQ(st.code(), storage::Errc::kInvalidArgument);
  EXPECT_NE(st.message().find("lastOffsetDelta"), std::string::npos) << st.message();
  EXPECT_TRUE(out.empty());
}

TEST(EntryBatchTest, DataEntryOfTwoBatchesIsRefused) {
  auto two = storage::testing::simple_batch(1);
  auto more = storage::testing::simple_batch(1);
  two.insert(two.end(), more.begin(), more.end());
  Entry e{Index(0), Index(0), Term(1), EntryType::kData, bytes_of(two)};
  std::vector<uint8_t> out;
  EXPECT_EQ(entry_to_batch(e, 0, out).code(), storage::Errc::kInvalidArgument);
}

TEST(EntryBatchTest, ControlEntryMustOccupyOneOffset) {
  Entry e{Index(5), Index(6), Term(1), EntryType::kLeaderChange, nullptr};
  std::vector<uint8_t> out;
  EXPECT_EQ(entry_to_batch(e, 0, out).code(), storage::Errc::kInvalidArgument);
}

TEST(EntryBatchTest, VotersEntryMustHoldAConfig) {
  Entry e{Index(5), Index(5), Term(1), EntryType::kVoters, bytes_of({1, 2, 3})};
  std::vector<uint8_t> out;
  EXPECT_EQ(entry_to_batch(e, 0, out).code(), storage::Errc::kInvalidArgument);
}

TEST(EntryBatchTest, LogStartPayloadRoundTripsAndRefusesBadBytes) {
  const auto bytes = encode_log_start(Offset(1234567890123));
  EXPECT_EQ(bytes.size(), 10u);
  Offset o;
  ASSERT_TRUE(decode_log_start(bytes, &o));
  EXPECT_EQ(o, Offset(1234567890123));
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(decode_log_start(std::span<const uint8_t>(bytes).first(n), &o)) << n;
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(decode_log_start(longer, &o)) << "trailing bytes";
  auto other = bytes;
  other[1] = 1;
  EXPECT_FALSE(decode_log_start(other, &o)) << "version 1";
  EXPECT_FALSE(decode_log_start(encode_log_start(Offset(-1)), &o)) << "negative offset";
  Entry e{Index(5), Index(5), Term(1), EntryType::kLogStart, bytes_of({0, 0, 1})};
  std::vector<uint8_t> out;
  EXPECT_EQ(entry_to_batch(e, 0, out).code(), storage::Errc::kInvalidArgument);
}

TEST(EntryBatchTest, ControlBatchesHaveKRaftsShape) {
  Config c{{NodeId(1), NodeId(2), NodeId(3)}, {}, {NodeId(4)}};
  for (auto [type, key] : {std::pair{EntryType::kLeaderChange, kControlTypeLeaderChange},
                           std::pair{EntryType::kVoters, kControlTypeVoters},
                           std::pair{EntryType::kLogStart, kControlTypeLogStart}}) {
    Entry e{Index(42), Index(42), Term(3), type,
            type == EntryType::kVoters     ? bytes_of(c.encode())
            : type == EntryType::kLogStart ? bytes_of(encode_log_start(Offset(30)))
                                           : bytes_of(encode_leader_change(LeaderChange{NodeId(1), {NodeId(1)}, {}}))};
    std::vector<uint8_t> out;
    ASSERT_TRUE(entry_to_batch(e, 1234, out).ok());
    ASSERT_EQ(record::validate_batch(out), record::BatchError::kOk);
    std::vector<uint8_t> scratch;
    record::RecordReader reader(out, scratch);
    const auto& h = reader.header();
    EXPECT_TRUE(h.is_control());
    EXPECT_FALSE(h.is_transactional());
    EXPECT_EQ(h.compression(), record::Compression::kNone);
    EXPECT_EQ(h.producer_id, -1);
    EXPECT_EQ(h.base_offset, 42);
    EXPECT_EQ(h.last_offset_delta, 0);
    EXPECT_EQ(h.partition_leader_epoch, 3);
    record::Record rec;
    ASSERT_TRUE(reader.next(rec));
    EXPECT_EQ(record::control_record_type(rec), key);
    EXPECT_FALSE(reader.next(rec));
    EXPECT_TRUE(is_raft_control_batch(out));
    auto back = batch_to_entry(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, e);
  }
}

TEST(EntryBatchTest, LeaderChangeWithoutPayloadGetsAnUnknownLeader) {
  Entry e{Index(0), Index(0), Term(1), EntryType::kLeaderChange, nullptr};
  std::vector<uint8_t> out;
  ASSERT_TRUE(entry_to_batch(e, 0, out).ok());
  auto back = batch_to_entry(out);
  ASSERT_TRUE(back.ok());
  LeaderChange lc;
  ASSERT_TRUE(decode_leader_change(*back->data, &lc));
  EXPECT_EQ(lc, LeaderChange{});
}

TEST(EntryBatchTest, TransactionMarkerStaysData) {
  std::vector<uint8_t> marker;
  ASSERT_TRUE(record::build_control_batch(record::ControlType::kCommit, 9, 0, 1, 0, 10, 2, marker).ok());
  EXPECT_FALSE(is_raft_control_batch(marker));
  auto e = batch_to_entry(marker);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, EntryType::kData);
  // And a data entry holding it is accepted (a state machine's marker).
  Entry d{Index(10), Index(10), Term(2), EntryType::kData, bytes_of(marker)};
  std::vector<uint8_t> out;
  EXPECT_TRUE(entry_to_batch(d, 0, out).ok());
}

TEST(EntryBatchTest, DataEntryMayNotImpersonateARaftControlBatch) {
  std::vector<uint8_t> control;
  Entry v{Index(0), Index(0), Term(1), EntryType::kVoters, bytes_of(Config{{NodeId(1)}, {}, {}}.encode())};
  ASSERT_TRUE(entry_to_batch(v, 0, control).ok());
  Entry d{Index(0), Index(0), Term(1), EntryType::kData, bytes_of(control)};
  std::vector<uint8_t> out;
  EXPECT_EQ(entry_to_batch(d, 0, out).code(), storage::Errc::kInvalidArgument);
}

}  // namespace
}  // namespace millrace::raft
