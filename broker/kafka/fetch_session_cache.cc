#include "broker/kafka/fetch_session_cache.h"

#include <algorithm>
#include <climits>

namespace millrace::broker {

int32_t next_fetch_epoch(int32_t epoch) {
  if (epoch < 0) return kFinalEpoch;
  if (epoch == INT32_MAX) return 1;
  return epoch + 1;
}

FetchSessionCache::FetchSessionCache(Options options)
    : options_(options), rng_(options.seed != 0 ? options.seed : std::random_device{}()) {}

FetchPlan FetchSessionCache::plan(const SessionRequest& req, int64_t now_ms) {
  FetchPlan p;
  std::lock_guard lock(mu_);
  if (req.epoch == kInitialEpoch || req.epoch == kFinalEpoch) {
    // A full request closes whatever session it names.
    if (req.session_id != 0) remove_locked(req.session_id);
    p.mode = req.epoch == kInitialEpoch ? FetchMode::kFull : FetchMode::kSessionless;
    p.partitions = req.partitions;
    return p;
  }
  auto it = sessions_.find(req.session_id);
  if (it == sessions_.end()) {
    p.mode = FetchMode::kError;
    p.error = SessionError::kIdNotFound;
    return p;
  }
  Session& s = *it->second;
  if (s.epoch != req.epoch) {
    p.mode = FetchMode::kError;
    p.error = SessionError::kInvalidEpoch;
    return p;
  }
  if (s.uses_topic_ids != req.uses_topic_ids) {
    p.mode = FetchMode::kError;
    p.error = SessionError::kTopicIdError;
    return p;
  }
  for (const auto& t : req.partitions) {
    auto found = s.by_key.find(t.key);
    if (found == s.by_key.end()) {
      s.order.push_back(Cached{t.key, t.params});
      s.by_key.emplace(t.key, std::prev(s.order.end()));
    } else {
      found->second->params = t.params;
    }
  }
  for (const auto& k : req.forgotten) {
    auto found = s.by_key.find(k);
    if (found == s.by_key.end()) continue;
    s.order.erase(found->second);
    s.by_key.erase(found);
  }
  if (s.order.empty()) {
    remove_locked(s.id);
    p.mode = FetchMode::kSessionless;
    p.partitions = req.partitions;
    return p;
  }
  touch_locked(s, now_ms);
  s.epoch = next_fetch_epoch(s.epoch);
  ++stats_.incremental_fetches;
  p.mode = FetchMode::kIncremental;
  p.session_id = s.id;
  p.epoch = s.epoch;
  p.partitions.reserve(s.order.size());
  for (const auto& c : s.order) p.partitions.push_back(FetchTarget{c.key, c.params});
  return p;
}

int32_t FetchSessionCache::create(bool uses_topic_ids, const std::vector<FetchTarget>& partitions,
                                  const std::vector<PartitionResult>& results, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (options_.max_slots == 0 ||
      (sessions_.size() >= options_.max_slots && !try_evict_locked(partitions.size(), now_ms))) {
    ++stats_.full_fetches_declined;
    return 0;
  }
  auto s = std::make_unique<Session>();
  s->id = new_id_locked();
  s->epoch = next_fetch_epoch(kInitialEpoch);
  s->uses_topic_ids = uses_topic_ids;
  s->created_ms = now_ms;
  s->last_used_ms = now_ms;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto& t = partitions[i];
    if (s->by_key.contains(t.key)) continue;  // a request naming a partition twice
    const auto& r = results[i];
    s->order.push_back(Cached{t.key, t.params, r.error != 0 ? -1 : r.high_watermark, r.log_start_offset});
    s->by_key.emplace(t.key, std::prev(s->order.end()));
  }
  int32_t id = s->id;
  s->cached_size = static_cast<int64_t>(s->order.size());
  stats_.partitions += s->cached_size;
  lru_.emplace(now_ms, id);
  sessions_.emplace(id, std::move(s));
  ++stats_.created;
  return id;
}

SessionError FetchSessionCache::finish_incremental(const FetchPlan& plan, const std::vector<PartitionResult>& results,
                                                   std::vector<bool>& include) {
  include.assign(plan.partitions.size(), false);
  std::lock_guard lock(mu_);
  auto it = sessions_.find(plan.session_id);
  if (it == sessions_.end()) return SessionError::kIdNotFound;
  Session& s = *it->second;
  if (s.epoch != plan.epoch) return SessionError::kInvalidEpoch;
  for (size_t i = 0; i < plan.partitions.size() && i < results.size(); ++i) {
    auto found = s.by_key.find(plan.partitions[i].key);
    if (found == s.by_key.end()) continue;
    Cached& c = *found->second;
    const auto& r = results[i];
    bool must = r.has_records || r.preferred_read_replica || r.error != 0 || c.high_watermark != r.high_watermark ||
                c.log_start_offset != r.log_start_offset;
    // After an error the cached high watermark is invalid, so the partition
    // is sent again once the error clears.
    c.high_watermark = r.error != 0 ? -1 : r.high_watermark;
    c.log_start_offset = r.log_start_offset;
    if (!must) continue;
    include[i] = true;
    s.order.splice(s.order.end(), s.order, found->second);
  }
  return SessionError::kNone;
}

FetchSessionStats FetchSessionCache::stats() const {
  std::lock_guard lock(mu_);
  FetchSessionStats out = stats_;
  out.sessions = static_cast<int64_t>(sessions_.size());
  return out;
}

void FetchSessionCache::remove_locked(int32_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  lru_.erase({it->second->last_used_ms, id});
  stats_.partitions -= it->second->cached_size;
  sessions_.erase(it);
}

void FetchSessionCache::touch_locked(Session& s, int64_t now_ms) {
  lru_.erase({s.last_used_ms, s.id});
  s.last_used_ms = now_ms;
  lru_.emplace(now_ms, s.id);
  stats_.partitions += static_cast<int64_t>(s.order.size()) - s.cached_size;
  s.cached_size = static_cast<int64_t>(s.order.size());
}

bool FetchSessionCache::try_evict_locked(size_t new_size, int64_t now_ms) {
  if (lru_.empty()) return false;
  auto [oldest_used, oldest_id] = *lru_.begin();
  if (now_ms - oldest_used > options_.eviction_ms) {
    remove_locked(oldest_id);
    ++stats_.evictions;
    return true;
  }
  // No stale session: the smallest one old enough to be evictable, if the
  // new session is larger.
  const Session* victim = nullptr;
  for (const auto& [id, s] : sessions_) {
    if (now_ms - s->created_ms <= options_.eviction_ms) continue;
    if (!victim || std::pair(s->cached_size, s->id) < std::pair(victim->cached_size, victim->id)) victim = s.get();
  }
  if (!victim || static_cast<int64_t>(new_size) <= victim->cached_size) return false;
  remove_locked(victim->id);
  ++stats_.evictions;
  return true;
}

int32_t FetchSessionCache::new_id_locked() {
  std::uniform_int_distribution<int32_t> dist(1, INT32_MAX - 1);
  int32_t id = 0;
  do {
    id = dist(rng_);
  } while (sessions_.contains(id));
  return id;
}

}  // namespace millrace::broker
