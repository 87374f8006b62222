#include "client/accumulator.h"

#include <algorithm>

namespace millrace::client {

RecordAccumulator::RecordAccumulator(AccumulatorConfig cfg) : cfg_(cfg), pool_(cfg.buffer_memory) {}

RecordAccumulator::AppendOutcome RecordAccumulator::try_append(const TopicPartition& tp, PendingRecord& rec,
                                                               int64_t now_ms, AppendResult* out) {
  (void)now_ms;
  std::lock_guard lock(mu_);
  auto it = queues_.find(tp);
  if (it == queues_.end() || it->second.empty()) return AppendOutcome::kNeedsNewBatch;
  auto& last = it->second.back();
  if (last->full || last->has_sequence()) return AppendOutcome::kNeedsNewBatch;
  size_t sz = encoded_record_size(rec, last->record_count(), rec.timestamp_ms - last->first_timestamp_ms);
  if (last->size_bytes + sz > last->reserved_bytes) return AppendOutcome::kNeedsNewBatch;
  last->size_bytes += sz;
  last->records.push_back(std::move(rec));
  // Full when another record of similar size would not fit.
  if (last->size_bytes + sz > last->reserved_bytes) last->full = true;
  if (out) *out = {false, last->full};
  return AppendOutcome::kAppended;
}

Result<RecordAccumulator::AppendResult> RecordAccumulator::append(const TopicPartition& tp, PendingRecord rec,
                                                                  int64_t now_ms) {
  AppendResult res;
  if (try_append(tp, rec, now_ms, &res) == AppendOutcome::kAppended) return res;
  size_t want = std::max(cfg_.batch_size, estimate_record_size(rec) + kBatchOverhead);
  switch (pool_.allocate(want, std::chrono::milliseconds(cfg_.max_block_ms))) {
    case BufferPool::Outcome::kOk: break;
    case BufferPool::Outcome::kTooLarge:
      return Error{errc::kRecordListTooLarge, "record of " + std::to_string(estimate_record_size(rec)) +
                   " bytes is larger than buffer.memory (" + std::to_string(pool_.total()) +
                   "); raise buffer.memory or send smaller records"};
    case BufferPool::Outcome::kTimedOut:
      return Error::timeout("buffer.memory (" + std::to_string(pool_.total()) +
                            " bytes) stayed full for max.block.ms (" + std::to_string(cfg_.max_block_ms) +
                            " ms): the brokers are not keeping up or unreachable");
    case BufferPool::Outcome::kClosed:
      return Error::closed("producer closed while waiting for buffer memory");
  }
  std::lock_guard lock(mu_);
  if (closed_) {
    pool_.deallocate(want);
    return Error::closed("producer is closed");
  }
  auto& q = queues_[tp];
  // Another thread may have opened a batch while we waited for memory: use it.
  if (!q.empty()) {
    auto& last = q.back();
    size_t sz = encoded_record_size(rec, last->record_count(), rec.timestamp_ms - last->first_timestamp_ms);
    if (!last->full && !last->has_sequence() && last->size_bytes + sz <= last->reserved_bytes) {
      pool_.deallocate(want);
      last->size_bytes += sz;
      last->records.push_back(std::move(rec));
      if (last->size_bytes + sz > last->reserved_bytes) last->full = true;
      return AppendResult{false, last->full};
    }
    last->full = true;
  }
  auto b = std::make_shared<ProducerBatch>();
  size_t sz = encoded_record_size(rec, 0, 0);
  b->tp = tp;
  b->reserved_bytes = want;
  b->created_ms = now_ms;
  b->first_timestamp_ms = rec.timestamp_ms;
  b->size_bytes = kBatchOverhead + sz;
  // Room for as many records like this one as the batch holds: no regrowth later.
  b->records.reserve(std::min<size_t>(want / sz + 1, 4096));
  b->records.push_back(std::move(rec));
  if (b->size_bytes + sz > b->reserved_bytes) b->full = true;
  b->id = next_batch_id_++;
  q.push_back(b);
  incomplete_.insert(b->id);
  return AppendResult{true, b->full || q.size() > 1};
}

bool RecordAccumulator::sendable_now(const TopicPartition& tp, const std::deque<BatchPtr>& q,
                                     int64_t now_ms) const {
  if (q.empty()) return false;
  const auto& first = q.front();
  if (first->retry_after_ms > now_ms) return false;
  auto it = in_flight_.find(tp);
  int inflight = it == in_flight_.end() ? 0 : it->second;
  if (first->has_sequence() && inflight > 0) return false;   // retries go one at a time
  if (cfg_.first_batch_alone && inflight > 0 && !acknowledged_.count(tp)) return false;
  if (inflight >= cfg_.max_in_flight_per_partition) return false;
  return true;
}

ReadyResult RecordAccumulator::ready(int64_t now_ms) {
  ReadyResult r;
  r.next_check_ms = cfg_.linger_ms > 0 ? cfg_.linger_ms : 100;
  std::lock_guard lock(mu_);
  for (auto& [tp, q] : queues_) {
    if (q.empty()) continue;
    const auto& first = q.front();
    int64_t age = now_ms - first->created_ms;
    bool expired = age >= cfg_.linger_ms;
    bool full = q.size() > 1 || first->full;
    bool go = full || expired || flushes_ > 0 || closed_ || first->has_sequence();
    if (first->retry_after_ms > now_ms) {
      r.next_check_ms = std::min(r.next_check_ms, first->retry_after_ms - now_ms);
      continue;
    }
    if (go) {
      if (sendable_now(tp, q, now_ms)) r.ready.push_back(tp);
    } else {
      r.next_check_ms = std::min(r.next_check_ms, cfg_.linger_ms - age);
    }
  }
  if (r.next_check_ms < 0) r.next_check_ms = 0;
  return r;
}

std::vector<BatchPtr> RecordAccumulator::drain(const std::vector<TopicPartition>& partitions, int64_t now_ms,
                                               size_t max_request_bytes) {
  std::vector<BatchPtr> out;
  size_t total = 0;
  std::lock_guard lock(mu_);
  for (const auto& tp : partitions) {
    auto it = queues_.find(tp);
    if (it == queues_.end() || !sendable_now(tp, it->second, now_ms)) continue;
    auto& b = it->second.front();
    if (!out.empty() && total + b->size_bytes > max_request_bytes) break;
    total += b->size_bytes;
    b->full = true;
    out.push_back(b);
    in_flight_batches_.insert(b);
    it->second.pop_front();
    ++in_flight_[tp];
  }
  return out;
}

void RecordAccumulator::complete(const BatchPtr& batch) {
  {
    std::lock_guard lock(mu_);
    // Only a drained batch counts against its partition's in-flight limit (an
    // expired or aborted one never left the queue).
    if (in_flight_batches_.erase(batch) > 0) {
      auto it = in_flight_.find(batch->tp);
      if (it != in_flight_.end() && it->second > 0) --it->second;
    }
    incomplete_.erase(batch->id);
  }
  pool_.deallocate(batch->reserved_bytes);
  flushed_cv_.notify_all();
}

void RecordAccumulator::acknowledged(const TopicPartition& tp) {
  std::lock_guard lock(mu_);
  if (cfg_.first_batch_alone) acknowledged_.insert(tp);
}

void RecordAccumulator::reenqueue(const BatchPtr& batch, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (in_flight_batches_.erase(batch) > 0) {
    auto fl = in_flight_.find(batch->tp);
    if (fl != in_flight_.end() && fl->second > 0) --fl->second;
  }
  batch->retry_after_ms = now_ms + cfg_.retry_backoff_ms;
  auto& q = queues_[batch->tp];
  // Keep batches that already have sequences in front, ordered by sequence.
  auto pos = q.begin();
  while (pos != q.end() && (*pos)->has_sequence() &&
         (!batch->has_sequence() || (*pos)->base_sequence < batch->base_sequence))
    ++pos;
  if (!batch->has_sequence()) pos = q.begin();
  q.insert(pos, batch);
}

std::vector<BatchPtr> RecordAccumulator::expire(int64_t now_ms) {
  std::vector<BatchPtr> out;
  std::lock_guard lock(mu_);
  for (auto& [tp, q] : queues_) {
    // Only whole-prefix expiry: a later batch never fails while an earlier one waits.
    while (!q.empty() && now_ms - q.front()->created_ms >= cfg_.delivery_timeout_ms) {
      out.push_back(q.front());
      q.pop_front();
    }
  }
  return out;
}

void RecordAccumulator::reset_sequences() {
  std::lock_guard lock(mu_);
  for (auto& [tp, q] : queues_)
    for (auto& b : q) {
      if (!b->has_sequence()) continue;
      b->base_sequence = -1;
      b->producer_id = -1;
      b->producer_epoch = -1;
      b->encoded.clear();
    }
  acknowledged_.clear();
}

std::vector<BatchPtr> RecordAccumulator::abort_all() {
  std::vector<BatchPtr> out;
  std::lock_guard lock(mu_);
  for (auto& [tp, q] : queues_) {
    for (auto& b : q) out.push_back(b);
    q.clear();
  }
  return out;
}

std::vector<BatchPtr> RecordAccumulator::take_in_flight() {
  std::lock_guard lock(mu_);
  std::vector<BatchPtr> out(in_flight_batches_.begin(), in_flight_batches_.end());
  in_flight_batches_.clear();
  return out;
}

RecordAccumulator::FlushToken RecordAccumulator::begin_flush() {
  std::lock_guard lock(mu_);
  ++flushes_;
  return next_batch_id_ - 1;   // the newest batch that exists now
}

bool RecordAccumulator::await_flush(FlushToken token, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  bool done = flushed_cv_.wait_for(lock, timeout,
                                   [&] { return incomplete_.empty() || *incomplete_.begin() > token; });
  if (flushes_ > 0) --flushes_;
  return done;
}

size_t RecordAccumulator::pending_for(FlushToken token) const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::distance(incomplete_.begin(), incomplete_.upper_bound(token)));
}

void RecordAccumulator::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  pool_.close();
}

bool RecordAccumulator::has_undrained() const {
  std::lock_guard lock(mu_);
  for (const auto& [tp, q] : queues_)
    if (!q.empty()) return true;
  return false;
}

size_t RecordAccumulator::incomplete() const {
  std::lock_guard lock(mu_);
  return incomplete_.size();
}

int RecordAccumulator::in_flight(const TopicPartition& tp) const {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(tp);
  return it == in_flight_.end() ? 0 : it->second;
}

std::string RecordAccumulator::debug_state() const {
  std::lock_guard lock(mu_);
  std::string out = "incomplete=" + std::to_string(incomplete_.size()) + "\n";
  for (const auto& [tp, q] : queues_) {
    auto fl = in_flight_.find(tp);
    out += tp.topic + "-" + std::to_string(tp.partition) + " queued=" + std::to_string(q.size()) +
           " in_flight=" + std::to_string(fl == in_flight_.end() ? 0 : fl->second);
    if (!q.empty())
      out += " first.seq=" + std::to_string(q.front()->base_sequence) + " attempts=" + std::to_string(q.front()->attempts) +
             " retry_after=" + std::to_string(q.front()->retry_after_ms);
    out += "\n";
  }
  return out;
}

}  // namespace millrace::client
