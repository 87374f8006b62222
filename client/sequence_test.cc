#include <gtest/gtest.h>

#include "client/accumulator.h"
#include "client/sequence_tracker.h"

namespace millrace::client {
namespace {

PendingRecord rec() {
  PendingRecord r;
  r.value = std::string(150, 'v');
  return r;
}

TEST(SequenceTracker, SequencesAdvanceByRecordCountPerPartition) {
  SequenceTracker s;
  s.set_producer(42, 3);
  ProducerBatch a, b, c;
  a.tp = {"t", 0}; a.records.resize(3);
  b.tp = {"t", 0}; b.records.resize(2);
  c.tp = {"t", 1}; c.records.resize(5);
  s.assign(a); s.assign(b); s.assign(c);
  EXPECT_EQ(a.base_sequence, 0);
  EXPECT_EQ(b.base_sequence, 3);
  EXPECT_EQ(c.base_sequence, 0);
  EXPECT_EQ(s.next_sequence({"t", 0}), 5);
  EXPECT_EQ(a.producer_id, 42);
  EXPECT_EQ(a.producer_epoch, 3);
}

TEST(SequenceTracker, RetriedBatchKeepsItsSequence) {
  SequenceTracker s;
  s.set_producer(1, 0);
  ProducerBatch a;
  a.tp = {"t", 0}; a.records.resize(4);
  s.assign(a);
  s.assign(a);
  EXPECT_EQ(a.base_sequence, 0);
  EXPECT_EQ(s.next_sequence({"t", 0}), 4);
}

TEST(SequenceTracker, WrapsAtInt32Max) {
  SequenceTracker s;
  s.set_producer(1, 0);
  const TopicPartition tp{"t", 0};
  s.advance(tp, INT32_MAX);   // next = INT32_MAX
  ProducerBatch b;
  b.tp = tp;
  b.records.resize(3);
  s.assign(b);
  EXPECT_EQ(b.base_sequence, INT32_MAX);
  EXPECT_EQ(s.next_sequence(tp), 2);   // INT32_MAX, 0, 1 used
}

// Three batches in flight; the first fails and then the later two fail (the broker
// saw a gap). They go back in sequence order and are resent one at a time.
TEST(Reenqueue, RetriesGoOutInSequenceOrderOneAtATime) {
  AccumulatorConfig cfg;
  cfg.batch_size = 200;
  cfg.linger_ms = 0;
  cfg.retry_backoff_ms = 10;
  RecordAccumulator acc(cfg);
  SequenceTracker seq;
  seq.set_producer(7, 0);
  const TopicPartition tp{"t", 0};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(acc.append(tp, rec(), 0).ok());
  std::vector<BatchPtr> sent;
  for (int i = 0; i < 3; ++i) {
    auto d = acc.drain({tp}, 0, 1 << 20);
    ASSERT_EQ(d.size(), 1u);
    seq.assign(*d[0]);
    sent.push_back(d[0]);
  }
  // Failures arrive out of order.
  acc.reenqueue(sent[2], 0);
  acc.reenqueue(sent[0], 0);
  acc.reenqueue(sent[1], 0);
  EXPECT_TRUE(acc.drain({tp}, 5, 1 << 20).empty());   // backing off
  std::vector<int32_t> order;
  for (int i = 0; i < 4; ++i) {
    auto d = acc.drain({tp}, 100, 1 << 20);
    ASSERT_EQ(d.size(), 1u);
    // Only one retry in flight at a time (the broker's sequence check orders the rest).
    if (i < 2) {
      EXPECT_TRUE(acc.drain({tp}, 100, 1 << 20).empty());
    }
    seq.assign(*d[0]);
    order.push_back(d[0]->base_sequence);
    acc.complete(d[0]);
  }
  EXPECT_EQ(order, (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(Reenqueue, RetryWaitsForInFlightBatchesOfItsPartition) {
  AccumulatorConfig cfg;
  cfg.batch_size = 200;
  cfg.linger_ms = 0;
  cfg.retry_backoff_ms = 0;
  RecordAccumulator acc(cfg);
  SequenceTracker seq;
  seq.set_producer(7, 0);
  const TopicPartition tp{"t", 0};
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(acc.append(tp, rec(), 0).ok());
  auto a = acc.drain({tp}, 0, 1 << 20);
  auto b = acc.drain({tp}, 0, 1 << 20);
  seq.assign(*a[0]);
  seq.assign(*b[0]);
  acc.reenqueue(a[0], 0);
  EXPECT_TRUE(acc.drain({tp}, 1, 1 << 20).empty());   // b still in flight
  acc.complete(b[0]);
  auto again = acc.drain({tp}, 1, 1 << 20);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]->base_sequence, 0);
}

}  // namespace
}  // namespace millrace::client
