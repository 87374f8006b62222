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

// A gap is recognised only for the batch right after the last acknowledged one.
TEST(SequenceTracker, NextBatchAfterTheLastAcknowledged) {
  SequenceTracker s;
  s.set_producer(9, 0);
  ProducerBatch a, b, c;
  a.tp = b.tp = c.tp = {"t", 0};
  a.records.resize(2); b.records.resize(3); c.records.resize(1);
  s.assign(a); s.assign(b); s.assign(c);   // 0-1, 2-4, 5
  EXPECT_TRUE(s.is_next(a));                // nothing acknowledged yet
  s.acknowledged(a);
  EXPECT_TRUE(s.is_next(b));
  EXPECT_FALSE(s.is_next(c));               // b may still be retried
  EXPECT_TRUE(s.is_current(c));
  // The epoch bump: a new id/epoch starts every partition at 0 and forgets acks.
  s.set_producer(9, 1);
  EXPECT_FALSE(s.is_current(c));
  EXPECT_EQ(s.next_sequence({"t", 0}), 0);
  ProducerBatch d;
  d.tp = {"t", 0}; d.records.resize(1);
  s.assign(d);
  EXPECT_EQ(d.base_sequence, 0);
  EXPECT_EQ(d.producer_epoch, 1);
  EXPECT_TRUE(s.is_next(d));
}

// After an epoch bump, queued batches (retries included) lose the old sequences
// and are stamped again in queue order, from 0.
TEST(Reenqueue, ResetSequencesRestampsQueuedBatchesInOrder) {
  AccumulatorConfig cfg;
  cfg.batch_size = 200;
  cfg.linger_ms = 0;
  cfg.retry_backoff_ms = 0;
  cfg.first_batch_alone = true;
  RecordAccumulator acc(cfg);
  SequenceTracker seq;
  seq.set_producer(7, 0);
  const TopicPartition tp{"t", 0};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(acc.append(tp, rec(), 0).ok());
  auto a = acc.drain({tp}, 0, 1 << 20);
  ASSERT_EQ(a.size(), 1u);
  seq.assign(*a[0]);
  a[0]->encoded = {1, 2, 3};
  acc.acknowledged(tp);
  auto b = acc.drain({tp}, 0, 1 << 20);
  ASSERT_EQ(b.size(), 1u);
  seq.assign(*b[0]);                      // a: 0, b: 1
  acc.reenqueue(b[0], 0);                 // b comes back (say OUT_OF_ORDER_SEQUENCE)
  acc.reenqueue(a[0], 0);                 // a too (its retry still pending)
  seq.set_producer(8, 0);
  acc.reset_sequences();
  std::vector<BatchPtr> order;
  for (int i = 0; i < 3; ++i) {
    auto d = acc.drain({tp}, 1, 1 << 20);
    ASSERT_EQ(d.size(), 1u) << i;         // one at a time: the new id's first batch goes alone
    EXPECT_TRUE(d[0]->encoded.empty());   // re-encoded with the new id, epoch and sequence
    seq.assign(*d[0]);
    order.push_back(d[0]);
    acc.acknowledged(tp);
    acc.complete(d[0]);
  }
  EXPECT_EQ(order[0], a[0]);
  EXPECT_EQ(order[1], b[0]);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(order[static_cast<size_t>(i)]->base_sequence, i == 0 ? 0 : (i == 1 ? 1 : 2));
    EXPECT_EQ(order[static_cast<size_t>(i)]->producer_id, 8);
  }
}

}  // namespace
}  // namespace millrace::client
