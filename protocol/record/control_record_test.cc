#include "protocol/record/control_record.h"

#include <gtest/gtest.h>

#include "protocol/record/batch_builder.h"
#include "protocol/record/record_reader.h"

namespace millrace::record {
namespace {

TEST(ControlBatch, CommitMarkerRoundTrips) {
  std::vector<uint8_t> b;
  ASSERT_TRUE(build_control_batch(ControlType::kCommit, 99, 4, 17, 5000, 1234, 8, b).ok());
  ASSERT_EQ(validate_batch(b), BatchError::kOk);
  std::vector<uint8_t> scratch;
  RecordReader reader(b, scratch);
  const BatchHeader& h = reader.header();
  EXPECT_TRUE(h.is_control());
  EXPECT_TRUE(h.is_transactional());
  EXPECT_EQ(h.producer_id, 99);
  EXPECT_EQ(h.producer_epoch, 4);
  EXPECT_EQ(h.base_offset, 1234);
  EXPECT_EQ(h.partition_leader_epoch, 8);
  EXPECT_EQ(h.record_count, 1);
  Record rec;
  ASSERT_TRUE(reader.next(rec));
  ASSERT_TRUE(rec.key.has_value());
  // Key bytes exactly: version 0, type 1.
  EXPECT_EQ(std::vector<uint8_t>(rec.key->begin(), rec.key->end()), (std::vector<uint8_t>{0, 0, 0, 1}));
  auto m = parse_transaction_marker(rec);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, ControlType::kCommit);
  EXPECT_EQ(m->coordinator_epoch, 17);
  EXPECT_FALSE(reader.next(rec));
  EXPECT_TRUE(reader.status().ok());
}

TEST(ControlBatch, AbortMarker) {
  std::vector<uint8_t> b;
  ASSERT_TRUE(build_control_batch(ControlType::kAbort, 1, 0, -1, 0, 0, 0, b).ok());
  std::vector<uint8_t> scratch;
  std::optional<TransactionMarker> m;
  ASSERT_TRUE(for_each_record(b, [&](const Record& r) { m = parse_transaction_marker(r); return true; }, scratch).ok());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, ControlType::kAbort);
  EXPECT_EQ(m->coordinator_epoch, -1);
}

TEST(ControlBatch, ShortOrUnknownKeysAreNotMarkers) {
  Record r;
  uint8_t short_key[3] = {0, 0, 1};
  r.key = Bytes(short_key);
  EXPECT_FALSE(control_record_type(r).has_value());
  uint8_t leader_change[4] = {0, 0, 0, 2};
  uint8_t value[6] = {};
  r.key = Bytes(leader_change);
  r.value = Bytes(value);
  EXPECT_EQ(control_record_type(r), 2);
  EXPECT_FALSE(parse_transaction_marker(r).has_value());
  r.key.reset();
  EXPECT_FALSE(parse_transaction_marker(r).has_value());
}

}  // namespace
}  // namespace millrace::record
