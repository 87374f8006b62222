#include "client/accumulator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace millrace::client {
namespace {

PendingRecord rec(size_t value_size) {
  PendingRecord r;
  r.value = std::string(value_size, 'x');
  return r;
}

const TopicPartition kTp{"t", 0};

TEST(Accumulator, BatchNotReadyBeforeLinger) {
  AccumulatorConfig cfg;
  cfg.linger_ms = 50;
  RecordAccumulator acc(cfg);
  ASSERT_TRUE(acc.append(kTp, rec(10), 1000).ok());
  auto r = acc.ready(1010);
  EXPECT_TRUE(r.ready.empty());
  EXPECT_EQ(r.next_check_ms, 40);
}

TEST(Accumulator, BatchReadyAfterLinger) {
  AccumulatorConfig cfg;
  cfg.linger_ms = 50;
  RecordAccumulator acc(cfg);
  ASSERT_TRUE(acc.append(kTp, rec(10), 1000).ok());
  ASSERT_TRUE(acc.append(kTp, rec(10), 1020).ok());
  auto r = acc.ready(1050);
  ASSERT_EQ(r.ready.size(), 1u);
  auto batches = acc.drain(r.ready, 1050, 1 << 20);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0]->record_count(), 2);
}

TEST(Accumulator, BatchFillsBySize) {
  AccumulatorConfig cfg;
  cfg.batch_size = 1000;
  cfg.linger_ms = 100000;
  RecordAccumulator acc(cfg);
  int appended = 0;
  bool full = false;
  while (!full) {
    auto r = acc.append(kTp, rec(90), 0);
    ASSERT_TRUE(r.ok());
    ++appended;
    full = r->batch_full;
  }
  // A 90-byte value encodes to 99 bytes (2-byte length, attributes, 1-byte deltas,
  // null key, 2-byte value length, no headers): (1000 - 61) / 99 = 9 records fill
  // the batch; an upper-bound estimate would stop at 7.
  EXPECT_EQ(encoded_record_size(rec(90), 0, 0), 99u);
  EXPECT_EQ(appended, 9);
  auto ready = acc.ready(1);   // long before linger: ready because full
  ASSERT_EQ(ready.ready.size(), 1u);
  auto b = acc.drain(ready.ready, 1, 1 << 20);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0]->record_count(), appended);
  EXPECT_EQ(b[0]->size_bytes, kBatchOverhead + 9 * 99u);
}

TEST(Accumulator, NextRecordAfterFullOpensNewBatch) {
  AccumulatorConfig cfg;
  cfg.batch_size = 300;
  cfg.linger_ms = 100000;
  RecordAccumulator acc(cfg);
  int new_batches = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = acc.append(kTp, rec(100), 0);
    ASSERT_TRUE(r.ok());
    new_batches += r->new_batch;
  }
  EXPECT_GE(new_batches, 4);
  auto b = acc.drain({kTp}, 0, 1 << 20);
  EXPECT_EQ(b.size(), 1u);   // one batch per partition per drain
}

TEST(Accumulator, OversizedRecordGetsItsOwnBatch) {
  AccumulatorConfig cfg;
  cfg.batch_size = 100;
  RecordAccumulator acc(cfg);
  auto r = acc.append(kTp, rec(5000), 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->batch_full);
}

TEST(Accumulator, RecordLargerThanBufferMemoryFailsAtOnce) {
  AccumulatorConfig cfg;
  cfg.buffer_memory = 1000;
  cfg.max_block_ms = 5000;
  RecordAccumulator acc(cfg);
  auto t0 = std::chrono::steady_clock::now();
  auto r = acc.append(kTp, rec(2000), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::kRecordListTooLarge);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

TEST(Accumulator, FullBufferBlocksThenFails) {
  AccumulatorConfig cfg;
  cfg.batch_size = 1000;
  cfg.buffer_memory = 2000;
  cfg.max_block_ms = 200;
  RecordAccumulator acc(cfg);
  ASSERT_TRUE(acc.append({"t", 0}, rec(10), 0).ok());
  ASSERT_TRUE(acc.append({"t", 1}, rec(10), 0).ok());
  auto t0 = std::chrono::steady_clock::now();
  auto r = acc.append({"t", 2}, rec(10), 0);
  auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::kRequestTimedOut);
  EXPECT_GE(waited, std::chrono::milliseconds(190));
  EXPECT_LT(waited, std::chrono::seconds(2));
}

TEST(Accumulator, FullBufferBlocksUntilBatchCompletes) {
  AccumulatorConfig cfg;
  cfg.batch_size = 1000;
  cfg.buffer_memory = 1000;
  cfg.max_block_ms = 5000;
  RecordAccumulator acc(cfg);
  ASSERT_TRUE(acc.append({"t", 0}, rec(10), 0).ok());
  auto drained = acc.drain({{"t", 0}}, 0, 1 << 20);
  ASSERT_EQ(drained.size(), 1u);
  std::atomic<bool> done{false};
  std::thread t([&] {
    auto r = acc.append({"t", 1}, rec(10), 0);
    EXPECT_TRUE(r.ok());
    done = true;
  });
  // Wait until the append is parked in the buffer pool (or, if it did not block,
  // has returned): a probe, not a sleep, so "still blocked" below is a fact.
  while (acc.pool().waiters() == 0 && !done.load()) std::this_thread::yield();
  EXPECT_FALSE(done.load());   // still blocked: memory is held by the in-flight batch
  EXPECT_EQ(acc.pool().waiters(), 1u);
  acc.complete(drained[0]);
  t.join();
  EXPECT_TRUE(done.load());
}

TEST(Accumulator, FlushMakesBatchesReadyImmediately) {
  AccumulatorConfig cfg;
  cfg.linger_ms = 100000;
  RecordAccumulator acc(cfg);
  ASSERT_TRUE(acc.append(kTp, rec(10), 0).ok());
  EXPECT_TRUE(acc.ready(1).ready.empty());
  auto token = acc.begin_flush();
  EXPECT_EQ(acc.ready(1).ready.size(), 1u);
  auto b = acc.drain({kTp}, 1, 1 << 20);
  ASSERT_EQ(b.size(), 1u);
  acc.complete(b[0]);
  EXPECT_TRUE(acc.await_flush(token, std::chrono::milliseconds(0)));
}

// Kafka's flush() waits for a copy of the incomplete batches taken when it starts:
// another thread that keeps sending must not hold it until its timeout (C8).
TEST(Accumulator, FlushWaitsOnlyForBatchesThatExistedAtItsStart) {
  AccumulatorConfig cfg;
  cfg.batch_size = 200;           // one 150-byte record per batch
  cfg.linger_ms = 100000;
  cfg.max_block_ms = 100;
  RecordAccumulator acc(cfg);
  const TopicPartition other{"t", 1};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(acc.append(kTp, rec(150), 0).ok());
  auto token = acc.begin_flush();
  EXPECT_EQ(acc.pending_for(token), 3u);
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread sender([&] {
    while (!stop.load())
      if (acc.append(other, rec(150), 0).ok()) ++appended;
  });
  while (appended.load() < 2) std::this_thread::yield();   // newer batches exist now
  for (int i = 0; i < 3; ++i) {
    auto b = acc.drain({kTp}, 0, 1 << 20);
    ASSERT_EQ(b.size(), 1u);
    acc.complete(b[0]);
  }
  // Returns at once although the other thread's batches are still incomplete.
  auto t0 = std::chrono::steady_clock::now();
  bool flushed = acc.await_flush(token, std::chrono::seconds(5));
  auto waited = std::chrono::steady_clock::now() - t0;
  stop = true;
  sender.join();
  EXPECT_TRUE(flushed);
  EXPECT_LT(waited, std::chrono::seconds(1));
  EXPECT_EQ(acc.pending_for(token), 0u);
  EXPECT_GE(acc.incomplete(), 2u);
  // A later flush does include them.
  auto later = acc.begin_flush();
  EXPECT_GE(acc.pending_for(later), 2u);
  EXPECT_FALSE(acc.await_flush(later, std::chrono::milliseconds(0)));
}

TEST(Accumulator, InFlightLimitPerPartition) {
  AccumulatorConfig cfg;
  cfg.batch_size = 200;
  cfg.linger_ms = 0;
  cfg.max_in_flight_per_partition = 2;
  RecordAccumulator acc(cfg);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(acc.append(kTp, rec(150), 0).ok());
  EXPECT_EQ(acc.drain({kTp}, 0, 1 << 20).size(), 1u);
  EXPECT_EQ(acc.drain({kTp}, 0, 1 << 20).size(), 1u);
  EXPECT_EQ(acc.drain({kTp}, 0, 1 << 20).size(), 0u);   // two in flight
  EXPECT_EQ(acc.in_flight(kTp), 2);
}

TEST(Accumulator, IdempotentPartitionSendsItsFirstBatchAlone) {
  AccumulatorConfig cfg;
  cfg.batch_size = 200;
  cfg.linger_ms = 0;
  cfg.max_in_flight_per_partition = 5;
  cfg.first_batch_alone = true;
  RecordAccumulator acc(cfg);
  const TopicPartition other{"t", 1};
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(acc.append(kTp, rec(150), 0).ok());
    ASSERT_TRUE(acc.append(other, rec(150), 0).ok());
  }
  auto first = acc.drain({kTp}, 0, 1 << 20);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(acc.drain({kTp}, 0, 1 << 20).size(), 0u);   // nothing acknowledged yet
  EXPECT_EQ(acc.drain({other}, 0, 1 << 20).size(), 1u);  // per partition
  acc.acknowledged(kTp);
  acc.complete(first[0]);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(acc.drain({kTp}, 0, 1 << 20).size(), 1u) << i;
  EXPECT_EQ(acc.in_flight(kTp), 5);                       // the usual limit from then on
  cfg.first_batch_alone = false;
  RecordAccumulator plain(cfg);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(plain.append(kTp, rec(150), 0).ok());
  EXPECT_EQ(plain.drain({kTp}, 0, 1 << 20).size(), 1u);
  EXPECT_EQ(plain.drain({kTp}, 0, 1 << 20).size(), 1u);   // without idempotence: no wait
}

TEST(Accumulator, ExpireFailsOnlyOldBatches) {
  AccumulatorConfig cfg;
  cfg.delivery_timeout_ms = 1000;
  cfg.batch_size = 200;
  RecordAccumulator acc(cfg);
  ASSERT_TRUE(acc.append(kTp, rec(150), 0).ok());
  ASSERT_TRUE(acc.append(kTp, rec(150), 600).ok());
  EXPECT_EQ(acc.expire(999).size(), 0u);
  EXPECT_EQ(acc.expire(1000).size(), 1u);
  EXPECT_EQ(acc.expire(1599).size(), 0u);
  EXPECT_EQ(acc.expire(1600).size(), 1u);
}

}  // namespace
}  // namespace millrace::client
