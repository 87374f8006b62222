// Sequence fuzzer for the produce path's idempotence state
// (storage/producer_state.h): random sequences of batches from a small pool of
// producer ids, with epochs, first sequences (the expected one, a resend of a
// recent batch, 0, random, near INT32_MAX) and record counts, mixed with clock
// advances + expiry, truncations, and snapshot write + reload. After every step
// the state is compared with a small reference model:
//   - each batch gets the model's decision (accepted, duplicate with the
//     original offsets, INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE);
//   - accepted batches of a producer within an epoch are contiguous (each
//     starts at the sequence after the one before, wrapping past INT32_MAX);
//   - a resend of any of the last 5 accepted batches is recognised as a
//     duplicate with its original offsets;
//   - a snapshot decodes to an equal state, and the fuzzer carries on with
//     the reloaded state, so it must keep making the same decisions;
//   - a producer idle for the expiration is gone, one that is not stays.
#include <fuzzer/FuzzedDataProvider.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <utility>

#include "storage/producer_state.h"

namespace {

using namespace millrace::storage;

constexpr int64_t kExpirationMs = 1000;
constexpr int64_t kPids[] = {1, 2, 3, -1};

[[noreturn]] void fail(const char* what, int64_t pid) {
  std::fprintf(stderr, "producer_state_fuzz: %s (producer %lld)\n", what, static_cast<long long>(pid));
  std::abort();
}

int32_t next_seq(int32_t s) { return s == INT32_MAX ? 0 : s + 1; }

struct ModelBatch {
  int32_t first, last;
  int64_t base_offset, last_offset;
};

struct ModelProducer {
  int16_t epoch = -1;
  int64_t last_append = 0;
  std::deque<ModelBatch> batches;  // last 5 accepted in this epoch
};

enum class Decision { kAccept, kDuplicate, kStaleEpoch, kOutOfOrder };

struct Model {
  std::map<int64_t, ModelProducer> producers;

  Decision decide(const ProducerBatchInfo& b, const ModelBatch** dup) const {
    if (b.producer_id < 0) return Decision::kAccept;
    auto it = producers.find(b.producer_id);
    if (it == producers.end() || it->second.epoch < 0) return Decision::kAccept;
    const ModelProducer& p = it->second;
    if (b.epoch < p.epoch) return Decision::kStaleEpoch;
    if (b.epoch > p.epoch) return b.first_seq == 0 ? Decision::kAccept : Decision::kOutOfOrder;
    for (const auto& mb : p.batches) {
      if (mb.first == b.first_seq && mb.last == b.last_seq) {
        *dup = &mb;
        return Decision::kDuplicate;
      }
    }
    if (!p.batches.empty() && b.first_seq != next_seq(p.batches.back().last)) return Decision::kOutOfOrder;
    return Decision::kAccept;
  }
  void accept(const ProducerBatchInfo& b, int64_t base, int64_t last, int64_t now) {
    if (b.producer_id < 0) return;
    ModelProducer& p = producers[b.producer_id];
    // Contiguity within an epoch, independent of decide(): the invariant the
    // sequence checks exist for.
    if (b.epoch == p.epoch && !p.batches.empty() && b.first_seq != next_seq(p.batches.back().last))
      fail("accepted a batch that is not contiguous", b.producer_id);
    if (b.epoch != p.epoch) p.batches.clear();
    p.epoch = b.epoch;
    p.last_append = std::max(p.last_append, now);
    p.batches.push_back({b.first_seq, b.last_seq, base, last});
    if (p.batches.size() > kProducerBatchesKept) p.batches.pop_front();
  }
};

void expect_same(const ProducerStateManager& m, const Model& model) {
  if (m.producers().size() != model.producers.size()) fail("producer count differs from the model", -1);
  for (const auto& [pid, mp] : model.producers) {
    const ProducerEntry* e = m.find(pid);
    if (!e) fail("producer missing", pid);
    if (e->epoch != mp.epoch) fail("epoch differs", pid);
    if (e->last_timestamp != mp.last_append) fail("last timestamp differs", pid);
    if (e->batches.size() != mp.batches.size()) fail("batch count differs", pid);
    for (size_t i = 0; i < mp.batches.size(); ++i) {
      const auto& a = e->batches[i];
      const auto& b = mp.batches[i];
      if (a.first_seq != b.first || a.last_seq != b.last || a.base_offset != b.base_offset ||
          a.last_offset != b.last_offset)
        fail("batch differs", pid);
      if (i > 0 && a.first_seq != next_seq(e->batches[i - 1].last_seq)) fail("kept batches not contiguous", pid);
    }
  }
}

// (first sequence, record count) of the next batch of `pid`.
std::pair<int32_t, int32_t> pick_seq(FuzzedDataProvider& in, const Model& model, int64_t pid) {
  auto it = model.producers.find(pid);
  const ModelProducer* p = it == model.producers.end() || it->second.batches.empty() ? nullptr : &it->second;
  const int32_t count = in.ConsumeIntegralInRange<int32_t>(1, 5);
  switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:  // the expected one
      return {p ? next_seq(p->batches.back().last) : 0, count};
    case 1: {  // a resend of a recent batch
      if (!p) return {0, count};
      const ModelBatch& b = p->batches[in.ConsumeIntegralInRange<size_t>(0, p->batches.size() - 1)];
      return {b.first, static_cast<int32_t>(b.last_offset - b.base_offset + 1)};
    }
    case 2:
      return {0, count};
    case 3:  // wraps past INT32_MAX
      return {INT32_MAX - in.ConsumeIntegralInRange<int32_t>(0, 6), count};
    case 4:
      return {in.ConsumeIntegralInRange<int32_t>(0, INT32_MAX), count};
    default:  // a gap
      return {p ? next_seq(next_seq(p->batches.back().last)) : 1, count};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ProducerStateManager state;
  Model model;
  int64_t now = 1'000'000;
  int64_t next_offset = 0;
  while (in.remaining_bytes() > 0) {
    switch (in.ConsumeIntegralInRange<int>(0, 9)) {
      default: {  // 0-5: a batch
        const int64_t pid = kPids[in.ConsumeIntegralInRange<size_t>(0, 3)];
        auto it = model.producers.find(pid);
        const int16_t known = it == model.producers.end() ? int16_t{0} : it->second.epoch;
        int16_t epoch = 0;
        switch (in.ConsumeIntegralInRange<int>(0, 3)) {
          case 0: epoch = known; break;
          case 1: epoch = static_cast<int16_t>(known < INT16_MAX ? known + 1 : known); break;
          case 2: epoch = static_cast<int16_t>(known > 0 ? known - 1 : 0); break;
          default: epoch = in.ConsumeIntegralInRange<int16_t>(0, 4); break;
        }
        const auto [first, count] = pick_seq(in, model, pid);
        const ProducerBatchInfo b{pid, epoch, first, last_sequence(first, count - 1)};
        const ModelBatch* dup = nullptr;
        const Decision want = model.decide(b, &dup);
        const SequenceCheck got = state.check(b);
        switch (want) {
          case Decision::kAccept:
            if (!got.status.ok() || got.duplicate) fail("refused a batch the model accepts", pid);
            state.update(b, next_offset, next_offset + count - 1, now, now);
            model.accept(b, next_offset, next_offset + count - 1, now);
            next_offset += count;
            break;
          case Decision::kDuplicate:
            if (!got.status.ok() || !got.duplicate) fail("missed a duplicate of a recent batch", pid);
            if (got.base_offset != dup->base_offset || got.last_offset != dup->last_offset)
              fail("duplicate answered with other offsets", pid);
            break;
          case Decision::kStaleEpoch:
            if (got.status.code() != Errc::kInvalidProducerEpoch) fail("accepted a stale epoch", pid);
            break;
          case Decision::kOutOfOrder:
            if (got.status.code() != Errc::kOutOfOrderSequence) fail("accepted an out-of-order sequence", pid);
            break;
        }
        break;
      }
      case 6: {  // time passes; expiry runs (as at a checkpoint)
        now += in.ConsumeIntegralInRange<int64_t>(0, 2 * kExpirationMs);
        size_t removed = state.remove_expired(now, kExpirationMs);
        size_t want = std::erase_if(model.producers,
                                    [&](const auto& p) { return now - p.second.last_append >= kExpirationMs; });
        if (removed != want) fail("expired a different number of producers", -1);
        break;
      }
      case 7: {  // snapshot written and read back; carry on with what was read
        auto decoded = ProducerStateManager::decode_snapshot(state.encode_snapshot(next_offset));
        if (!decoded.ok()) fail("own snapshot does not decode", -1);
        if (decoded->second != next_offset) fail("snapshot offset differs", -1);
        if (!(decoded->first == state)) fail("reloaded snapshot differs", -1);
        state = std::move(decoded->first);
        break;
      }
      case 8: {  // truncation (a replica's log end moves back)
        const int64_t to = in.ConsumeIntegralInRange<int64_t>(0, next_offset);
        state.truncate_to(to);
        for (auto& [pid, p] : model.producers)
          while (!p.batches.empty() && p.batches.back().last_offset >= to) p.batches.pop_back();
        next_offset = to;
        break;
      }
    }
    expect_same(state, model);
  }
  return 0;
}
