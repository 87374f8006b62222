// Sequence fuzzer for KIP-227 incremental fetch sessions
// (broker/kafka/fetch_session_cache.h): random sequences of full fetches that
// open sessions, incremental fetches (add, update, forget partitions; right,
// stale and wrong epochs; topic ids on or off), closes, responses finished
// late and out of order, and time passing, against a cache with a random
// number of slots and eviction time. A reference model of every session (its
// epoch, partitions in response order, what was last sent for each) predicts
// each answer; after every step:
//   - the plan's mode, error, session id, epoch and partition list match;
//   - the epoch rules hold (1 after creation, +1 per incremental request; a
//     stale, future or unknown one is refused; next_fetch_epoch's wrap from
//     INT32_MAX to 1, out of reach by requests, is checked directly);
//   - finish_incremental includes exactly the partitions that changed and
//     rotates them to the end;
//   - eviction picks the model's victim, and no more sessions exist than slots;
//   - the stats (sessions, summed partitions, counters) match the model.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

#include "broker/kafka/fetch_session_cache.h"

namespace {

using namespace millrace::broker;

[[noreturn]] void fail(const char* what, int32_t id) {
  std::fprintf(stderr, "fetch_session_fuzz: %s (session %d)\n", what, id);
  std::abort();
}

struct ModelPartition {
  FetchKey key;
  FetchParams params;
  int64_t hw = -1;
  int64_t lso = -1;
};

struct ModelSession {
  int32_t epoch = 1;
  bool ids = false;
  int64_t created = 0;
  int64_t last_used = 0;
  std::vector<ModelPartition> order;
  ModelPartition* find(const FetchKey& k) {
    for (auto& p : order)
      if (p.key == k) return &p;
    return nullptr;
  }
};

struct Model {
  size_t slots = 0;
  int64_t eviction_ms = 0;
  std::map<int32_t, ModelSession> sessions;
  FetchSessionStats stats;

  int64_t partitions() const {
    int64_t n = 0;
    for (const auto& [id, s] : sessions) n += static_cast<int64_t>(s.order.size());
    return n;
  }
  // Kafka's policy as the header states it: the least recently used session
  // if idle longer than eviction_ms, else the smallest (then lowest id) older
  // than eviction_ms if the new one is larger. Returns the victim, or nullopt
  // when there is no room.
  std::optional<int32_t> victim(size_t new_size, int64_t now) const {
    if (sessions.empty()) return std::nullopt;
    std::optional<std::pair<int64_t, int32_t>> lru;  // (last used, id)
    for (const auto& [id, s] : sessions) {
      std::pair<int64_t, int32_t> k{s.last_used, id};
      if (!lru || k < *lru) lru = k;
    }
    if (now - lru->first > eviction_ms) return lru->second;
    std::optional<std::pair<int64_t, int32_t>> small;
    for (const auto& [id, s] : sessions) {
      if (now - s.created <= eviction_ms) continue;
      std::pair<int64_t, int32_t> k{static_cast<int64_t>(s.order.size()), id};
      if (!small || k < *small) small = k;
    }
    if (!small || static_cast<int64_t>(new_size) <= small->first) return std::nullopt;
    return small->second;
  }
};

FetchKey key(FuzzedDataProvider& in, bool ids) {
  FetchKey k;
  if (ids) k.topic_id[15] = in.ConsumeIntegralInRange<uint8_t>(1, 2);
  else k.topic = in.ConsumeBool() ? "a" : "b";
  k.partition = in.ConsumeIntegralInRange<int32_t>(0, 3);
  return k;
}

std::vector<FetchTarget> targets(FuzzedDataProvider& in, bool ids, size_t max) {
  std::vector<FetchTarget> out(in.ConsumeIntegralInRange<size_t>(0, max));
  for (auto& t : out) {
    t.key = key(in, ids);
    t.params.fetch_offset = in.ConsumeIntegralInRange<int64_t>(0, 3);
  }
  return out;
}

PartitionResult result(FuzzedDataProvider& in) {
  PartitionResult r;
  r.error = in.ConsumeIntegralInRange<int>(0, 7) == 0 ? int16_t{6} : int16_t{0};
  r.high_watermark = in.ConsumeIntegralInRange<int64_t>(0, 2);
  r.log_start_offset = in.ConsumeIntegralInRange<int64_t>(0, 1);
  r.has_records = in.ConsumeIntegralInRange<int>(0, 3) == 0;
  return r;
}

void expect_targets(const std::vector<FetchTarget>& got, const std::vector<FetchTarget>& want, int32_t id) {
  if (got.size() != want.size()) fail("plan lists another number of partitions", id);
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i].key != want[i].key || got[i].params.fetch_offset != want[i].params.fetch_offset)
      fail("plan lists other partitions", id);
}

void expect_stats(const FetchSessionCache& cache, const Model& m) {
  FetchSessionStats s = cache.stats();
  if (s.sessions != static_cast<int64_t>(m.sessions.size())) fail("session count differs from the model", 0);
  if (m.sessions.size() > m.slots) fail("more sessions than slots", 0);
  if (s.partitions != m.partitions()) fail("partition count differs from the model", 0);
  if (s.created != m.stats.created || s.evictions != m.stats.evictions ||
      s.incremental_fetches != m.stats.incremental_fetches ||
      s.full_fetches_declined != m.stats.full_fetches_declined)
    fail("counters differ from the model", 0);
}

// The id of a live session (or a made-up one) to name in a request.
int32_t pick_id(FuzzedDataProvider& in, const Model& m) {
  if (m.sessions.empty() || in.ConsumeIntegralInRange<int>(0, 7) == 0)
    return in.ConsumeIntegralInRange<int32_t>(1, 5);
  auto it = m.sessions.begin();
  std::advance(it, in.ConsumeIntegralInRange<size_t>(0, m.sessions.size() - 1));
  return it->first;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (next_fetch_epoch(INT32_MAX) != 1 || next_fetch_epoch(kInitialEpoch) != 1 || next_fetch_epoch(-1) != -1)
    fail("next_fetch_epoch", 0);
  FuzzedDataProvider in(data, size);
  Model m;
  m.slots = in.ConsumeIntegralInRange<size_t>(0, 4);
  m.eviction_ms = in.ConsumeIntegralInRange<int64_t>(0, 2000);
  FetchSessionCache cache({.max_slots = m.slots, .eviction_ms = m.eviction_ms, .seed = 7});
  int64_t now = 0;
  std::vector<FetchPlan> pending;  // incremental plans whose responses are not finished yet
  while (in.remaining_bytes() > 0) {
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
      case 0:
      case 1: {  // full fetch: opens a session (epoch 0) or none (-1), closing the one named
        SessionRequest req;
        req.session_id = in.ConsumeBool() ? 0 : pick_id(in, m);
        req.epoch = in.ConsumeIntegralInRange<int>(0, 4) == 0 ? kFinalEpoch : kInitialEpoch;
        req.uses_topic_ids = in.ConsumeBool();
        req.partitions = targets(in, req.uses_topic_ids, 6);
        FetchPlan p = cache.plan(req, now);
        m.sessions.erase(req.session_id);
        FetchMode want = req.epoch == kInitialEpoch ? FetchMode::kFull : FetchMode::kSessionless;
        if (p.mode != want || p.session_id != 0) fail("full fetch planned otherwise", req.session_id);
        expect_targets(p.partitions, req.partitions, 0);
        if (p.mode != FetchMode::kFull) break;
        std::vector<PartitionResult> results;
        for (size_t i = 0; i < p.partitions.size(); ++i) results.push_back(result(in));
        std::optional<int32_t> victim;
        bool room = m.slots > 0 && (m.sessions.size() < m.slots ||
                                    (victim = m.victim(p.partitions.size(), now)).has_value());
        int32_t id = cache.create(req.uses_topic_ids, p.partitions, results, now);
        if (!room) {
          if (id != 0) fail("opened a session without room", id);
          ++m.stats.full_fetches_declined;
          break;
        }
        if (id <= 0 || id == INT32_MAX) fail("bad session id", id);
        if (victim) {
          m.sessions.erase(*victim);
          ++m.stats.evictions;
        }
        if (m.sessions.contains(id)) fail("reused a live session id", id);
        ModelSession s;
        s.ids = req.uses_topic_ids;
        s.created = s.last_used = now;
        for (size_t i = 0; i < p.partitions.size(); ++i) {
          if (s.find(p.partitions[i].key)) continue;
          s.order.push_back({p.partitions[i].key, p.partitions[i].params,
                             results[i].error != 0 ? -1 : results[i].high_watermark, results[i].log_start_offset});
        }
        m.sessions.emplace(id, std::move(s));
        ++m.stats.created;
        break;
      }
      case 2:
      case 3:
      case 4: {  // incremental fetch
        SessionRequest req;
        req.session_id = pick_id(in, m);
        auto it = m.sessions.find(req.session_id);
        switch (in.ConsumeIntegralInRange<int>(0, 5)) {
          case 0: req.epoch = it == m.sessions.end() ? 1 : it->second.epoch - 1; break;  // stale (a retry)
          case 1: req.epoch = in.ConsumeIntegralInRange<int32_t>(-3, 3); break;
          case 2: req.epoch = INT32_MAX; break;
          default: req.epoch = it == m.sessions.end() ? 1 : it->second.epoch; break;
        }
        req.uses_topic_ids = it != m.sessions.end() && in.ConsumeIntegralInRange<int>(0, 7) != 0
                                 ? it->second.ids
                                 : in.ConsumeBool();
        req.partitions = targets(in, req.uses_topic_ids, 3);
        for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 3); n > 0; --n) req.forgotten.push_back(key(in, req.uses_topic_ids));
        FetchPlan p = cache.plan(req, now);
        if (req.epoch == kInitialEpoch || req.epoch == kFinalEpoch) {  // a full fetch after all
          m.sessions.erase(req.session_id);
          if (p.mode != (req.epoch == kInitialEpoch ? FetchMode::kFull : FetchMode::kSessionless))
            fail("full fetch planned otherwise", req.session_id);
          break;  // not created: the client never gets a session for it
        }
        if (it == m.sessions.end()) {
          if (p.mode != FetchMode::kError || p.error != SessionError::kIdNotFound) fail("unknown id served", req.session_id);
          break;
        }
        ModelSession& s = it->second;
        if (s.epoch != req.epoch) {
          if (p.mode != FetchMode::kError || p.error != SessionError::kInvalidEpoch) fail("wrong epoch served", req.session_id);
          break;
        }
        if (s.ids != req.uses_topic_ids) {
          if (p.mode != FetchMode::kError || p.error != SessionError::kTopicIdError) fail("topic id mismatch served", req.session_id);
          break;
        }
        for (const auto& t : req.partitions) {
          if (ModelPartition* mp = s.find(t.key)) mp->params = t.params;
          else s.order.push_back({t.key, t.params, -1, -1});
        }
        for (const auto& k : req.forgotten)
          std::erase_if(s.order, [&](const ModelPartition& mp) { return mp.key == k; });
        if (s.order.empty()) {
          m.sessions.erase(it);
          if (p.mode != FetchMode::kSessionless || p.session_id != 0) fail("emptied session not closed", req.session_id);
          expect_targets(p.partitions, req.partitions, req.session_id);
          break;
        }
        s.last_used = now;
        s.epoch = next_fetch_epoch(s.epoch);
        ++m.stats.incremental_fetches;
        if (p.mode != FetchMode::kIncremental || p.session_id != req.session_id || p.epoch != s.epoch)
          fail("incremental fetch planned otherwise", req.session_id);
        if (p.epoch < 1) fail("session epoch left 1..INT32_MAX", req.session_id);
        std::vector<FetchTarget> want;
        for (const auto& mp : s.order) want.push_back({mp.key, mp.params});
        expect_targets(p.partitions, want, req.session_id);
        pending.push_back(std::move(p));
        break;
      }
      case 5: {  // a response is built: finish one pending plan (maybe a stale one)
        if (pending.empty()) break;
        size_t i = in.ConsumeIntegralInRange<size_t>(0, pending.size() - 1);
        FetchPlan p = std::move(pending[i]);
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
        std::vector<PartitionResult> results;
        for (size_t j = 0; j < p.partitions.size(); ++j) results.push_back(result(in));
        std::vector<bool> include;
        SessionError e = cache.finish_incremental(p, results, include);
        if (include.size() != p.partitions.size()) fail("include has another size", p.session_id);
        auto it = m.sessions.find(p.session_id);
        SessionError want = it == m.sessions.end()             ? SessionError::kIdNotFound
                            : it->second.epoch != p.epoch      ? SessionError::kInvalidEpoch
                                                               : SessionError::kNone;
        if (e != want) fail("finish answered another error", p.session_id);
        if (want != SessionError::kNone) {
          if (std::find(include.begin(), include.end(), true) != include.end()) fail("stale finish included", p.session_id);
          break;
        }
        ModelSession& s = it->second;
        for (size_t j = 0; j < p.partitions.size(); ++j) {
          ModelPartition* mp = s.find(p.partitions[j].key);
          if (!mp) fail("a planned partition left the session", p.session_id);
          const auto& r = results[j];
          bool must = r.has_records || r.error != 0 || mp->hw != r.high_watermark || mp->lso != r.log_start_offset;
          mp->hw = r.error != 0 ? -1 : r.high_watermark;
          mp->lso = r.log_start_offset;
          if (include[j] != must) fail("included the wrong partitions", p.session_id);
          if (must) {  // rotate to the end
            auto at = std::find_if(s.order.begin(), s.order.end(), [&](const ModelPartition& x) { return x.key == p.partitions[j].key; });
            ModelPartition moved = *at;
            s.order.erase(at);
            s.order.push_back(moved);
          }
        }
        break;
      }
      case 6:
        now += in.ConsumeIntegralInRange<int64_t>(0, 1500);
        break;
      case 7: {  // a burst of empty incremental requests on one session
        if (m.sessions.empty()) break;
        int32_t id = pick_id(in, m);
        auto it = m.sessions.find(id);
        if (it == m.sessions.end() || it->second.order.empty()) break;  // (an empty one would close)
        for (int n = in.ConsumeIntegralInRange<int>(1, 4); n > 0; --n) {
          FetchPlan p = cache.plan(SessionRequest{id, it->second.epoch, it->second.ids, {}, {}}, now);
          it->second.epoch = next_fetch_epoch(it->second.epoch);
          it->second.last_used = now;
          ++m.stats.incremental_fetches;
          if (p.mode != FetchMode::kIncremental || p.epoch != it->second.epoch) fail("epoch walk failed", id);
        }
        break;
      }
    }
    expect_stats(cache, m);
  }
  return 0;
}
