#include "cluster/replication/replica_set.h"

#include <algorithm>
#include <limits>

#include <set>

namespace millrace::cluster {
namespace {
constexpr size_t kMaxDeferredPerGroup = 64;  // appends waiting for the follower throttle, per group
}  // namespace

int64_t group_id(const std::array<uint8_t, 16>& topic_id, int32_t partition) {
  // FNV-1a over the topic id and the partition, kept non-negative (0 is the
  // controller quorum's group).
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint8_t b) {
    h ^= b;
    h *= 1099511628211ull;
  };
  for (uint8_t b : topic_id) mix(b);
  for (int shift = 24; shift >= 0; shift -= 8) mix(static_cast<uint8_t>(static_cast<uint32_t>(partition) >> shift));
  const auto g = static_cast<int64_t>(h & 0x7fffffffffffffffull);
  return g == 0 ? 1 : g;
}

storage::Status ReplicaSet::add(int64_t group, std::shared_ptr<storage::Log> log, const std::vector<int32_t>& replicas,
                                raft::Durability durability, bool joining, const std::vector<int32_t>& adding) {
  if (replicas_.count(group))
    return {storage::Errc::kInvalidArgument, "raft group " + std::to_string(group) + " is already held here"};
  PartitionReplicaOptions o;
  o.me = me_;
  o.group = group;
  o.replicas = replicas;
  o.joining = joining;
  o.adding = adding;
  o.learner_budget = [this](int32_t) { return learner_budget(); };
  o.learner_sent = [this](int32_t, size_t bytes) { learner_sent(bytes); };
  // One tick's worth of the follower rate, so an append waits a tick at most.
  o.follower_window = [this]() -> size_t {
    if (follower_rate_ <= 0) return 0;
    return static_cast<size_t>(std::max<int64_t>(1, follower_rate_ * tick_ms_ / 1000));
  };
  o.election_ticks = election_ticks_;
  o.quiesce_ticks = quiesce_ticks_;
  o.lag_ticks = lag_ticks_;
  o.durability = durability;
  o.seed = static_cast<uint64_t>(group) ^ (static_cast<uint64_t>(me_) << 32);
  auto r = PartitionReplica::open(std::move(log), o);
  if (!r.ok()) return r.status();
  replicas_[group] = std::move(*r);
  awake_.insert(group);
  dirty_.insert(group);
  peers_dirty_ = true;
  return {};
}

void ReplicaSet::set_learner_rate(int64_t bytes_per_s, int tick_ms) {
  learner_rate_ = std::max<int64_t>(0, bytes_per_s);
  tick_ms_ = std::max(1, tick_ms);
  learner_tokens_ = std::min(learner_tokens_, 2.0 * static_cast<double>(learner_rate_) * tick_ms_ / 1000.0);
}

// A token bucket: an append to a learner carries at most what the bucket
// holds (at least one entry, so the bucket may go below zero by part of one;
// it then waits until refilled), so the rate holds tick by tick.
size_t ReplicaSet::learner_budget() const {
  if (learner_rate_ <= 0) return std::numeric_limits<size_t>::max();
  return learner_tokens_ >= 1 ? static_cast<size_t>(learner_tokens_) : 0;
}

void ReplicaSet::learner_sent(size_t bytes) {
  learner_bytes_ += bytes;
  if (learner_rate_ > 0) learner_tokens_ -= static_cast<double>(bytes);
}

void ReplicaSet::set_follower_rate(int64_t bytes_per_s) {
  follower_rate_ = std::max<int64_t>(0, bytes_per_s);
  follower_tokens_ = std::min(follower_tokens_, 2.0 * static_cast<double>(follower_rate_) * tick_ms_ / 1000.0);
  release_deferred();
}

size_t ReplicaSet::deferred() const {
  size_t n = 0;
  for (const auto& [g, q] : deferred_) n += q.size();
  return n;
}

void ReplicaSet::set_throttle(int64_t group, ThrottleScope scope) {
  if (auto it = replicas_.find(group); it != replicas_.end()) it->second->set_throttle(scope);
}

void ReplicaSet::step_now(int64_t group, PartitionReplica& r, const raft::Message& m) {
  awake_.insert(group);
  dirty_.insert(group);
  r.step(m);
}

// What an append costs the follower throttle: the bytes of its entries this
// replica does not hold yet, when it is catch-up traffic (a leader's resend
// of what arrived already is free).
size_t ReplicaSet::intake_cost(const PartitionReplica& r, const raft::Message& m) const {
  if (follower_rate_ <= 0 || !r.catching_up(m)) return 0;
  size_t bytes = 0;
  for (const raft::Entry& e : m.entries)
    if (e.last.value() >= r.log_end()) bytes += e.bytes();
  return bytes;
}

void ReplicaSet::take_in(int64_t group, PartitionReplica& r, const raft::Message& m, size_t cost) {
  follower_bytes_ += cost;
  follower_tokens_ -= static_cast<double>(cost);
  step_now(group, r, m);
}

// Round robin over the groups with appends waiting, one append each a turn,
// while the bucket holds a byte (an append may take it below zero); an
// append that costs nothing goes at once.
void ReplicaSet::release_deferred() {
  for (bool moved = true; moved && !deferred_.empty();) {
    moved = false;
    for (auto it = deferred_.begin(); it != deferred_.end();) {
      auto r = replicas_.find(it->first);
      if (r == replicas_.end() || it->second.empty()) {
        it = deferred_.erase(it);
        continue;
      }
      const size_t cost = intake_cost(*r->second, it->second.front());
      if (cost > 0 && follower_tokens_ < 1) {
        ++it;
        continue;
      }
      const raft::Message m = std::move(it->second.front());
      it->second.pop_front();
      take_in(it->first, *r->second, m, cost);
      moved = true;
      it = it->second.empty() ? deferred_.erase(it) : std::next(it);
    }
  }
}

void ReplicaSet::remove(int64_t group) {
  deferred_.erase(group);
  replicas_.erase(group);
  awake_.erase(group);
  dirty_.erase(group);
  peers_dirty_ = true;
}

PartitionReplica* ReplicaSet::get(int64_t group) {
  auto it = replicas_.find(group);
  if (it == replicas_.end()) return nullptr;
  awake_.insert(group);  // the caller may propose, campaign or wake it
  dirty_.insert(group);
  return it->second.get();
}

void ReplicaSet::tick() {
  ++now_;
  if (learner_rate_ > 0) {  // two ticks' worth at most: an idle spell (or a new leader's) is no burst
    const double per_tick = static_cast<double>(learner_rate_) * tick_ms_ / 1000.0;
    learner_tokens_ = std::min(learner_tokens_ + per_tick, 2 * per_tick);
  }
  if (follower_rate_ > 0) {
    const double per_tick = static_cast<double>(follower_rate_) * tick_ms_ / 1000.0;
    follower_tokens_ = std::min(follower_tokens_ + per_tick, 2 * per_tick);
  }
  release_deferred();
  if (quiesce_ticks_ <= 0) {
    for (auto& [g, r] : replicas_) {
      r->tick();
      if (r->busy()) dirty_.insert(g);
    }
    return;
  }
  // The peer brokers (for the beats): recounted when replicas come or go, and
  // every election timeout (a reassignment changes a group's members).
  if (peers_dirty_ || now_ % std::max(1, election_ticks_) == 0) {
    std::set<int32_t> peers;
    for (auto& [g, r] : replicas_) {
      const auto& c = r->config();
      for (const auto* list : {&c.voters, &c.outgoing, &c.learners})
        for (auto n : *list)
          if (n.value() != me_) peers.insert(static_cast<int32_t>(n.value()));
    }
    peers_.assign(peers.begin(), peers.end());
    peers_dirty_ = false;
  }
  // A peer broker that just went silent: the quiescent followers of the
  // groups it leads no longer hear from it at all. Wake them (one pass over
  // the set, when it happens; a quiescent follower never hears its leader
  // again without the peer being heard). The groups this broker leads forget
  // that it was in sync (PartitionReplica::in_sync).
  for (int32_t p : peers_) {
    const bool quiet = silent(p);
    if (quiet && !silent_.count(p)) {
      silent_.insert(p);
      for (auto& [g, r] : replicas_) {
        if (r->is_leader()) r->forget_caught_up(p);
        if (r->quiesced() && !r->is_leader() && r->leader() == p) {
          r->wake();
          awake_.insert(g);
          dirty_.insert(g);
        }
      }
    } else if (!quiet) {
      silent_.erase(p);
    }
  }
  // Only replicas that are not quiescent have a clock to run; one that asks
  // something after its tick is driven next; one that is quiescent with
  // nothing left to do sleeps until a message, a caller (get) or node
  // liveness wakes it.
  for (auto a = awake_.begin(); a != awake_.end();) {
    auto it = replicas_.find(*a);
    if (it == replicas_.end()) {
      a = awake_.erase(a);
      continue;
    }
    PartitionReplica& r = *it->second;
    r.tick();
    const bool busy = r.busy();
    if (busy) dirty_.insert(*a);
    a = !busy && r.quiesced() ? awake_.erase(a) : std::next(a);
  }
}

bool ReplicaSet::silent(int32_t broker) {
  auto [it, fresh] = last_heard_.try_emplace(broker, now_);  // first sight: a full timeout of grace
  return !fresh && now_ - it->second >= election_ticks_;
}

void ReplicaSet::heard_from(int32_t broker) { last_heard_[broker] = now_; }

void ReplicaSet::peer_unreachable(int32_t broker) {
  for (auto& [g, r] : replicas_)
    if (!r->is_leader() && r->leader() == broker) {
      r->leader_unreachable(broker);
      awake_.insert(g);
      dirty_.insert(g);
    }
}

size_t ReplicaSet::quiesced() const {
  size_t n = 0;
  for (const auto& [g, r] : replicas_) n += r->quiesced() ? 1 : 0;
  return n;
}

void ReplicaSet::deliver(const std::vector<raft::Message>& messages) {
  for (const auto& m : messages) {
    if (m.from.value() >= 0) last_heard_[static_cast<int32_t>(m.from.value())] = now_;
    auto it = replicas_.find(m.group.value());
    if (it == replicas_.end()) {
      ++dropped_;
      continue;
    }
    // The follower throttle: catch-up appends take tokens; one that finds
    // none, or finds its group's earlier appends waiting, waits in order.
    if (m.type == raft::MessageType::kAppend && !m.entries.empty()) {
      auto waiting = deferred_.find(it->first);
      const bool queued = waiting != deferred_.end() && !waiting->second.empty();
      const size_t cost = intake_cost(*it->second, m);
      if (queued || (cost > 0 && follower_tokens_ < 1)) {
        auto& q = deferred_[it->first];
        // A leader sends more only as it is answered (one append at a time
        // to a follower that asks for a window), so few wait; a resend of
        // one waiting is dropped, and past kMaxDeferredPerGroup (a leader
        // change's resends) the newest are, as the network may drop them.
        const bool resend = std::any_of(q.begin(), q.end(), [&](const raft::Message& w) {
          return w.term == m.term && w.index == m.index && w.entries.back().last == m.entries.back().last;
        });
        if (resend || q.size() >= kMaxDeferredPerGroup) {
          ++follower_dropped_;
          continue;
        }
        q.push_back(m);
        continue;
      }
      take_in(it->first, *it->second, m, cost);
      continue;
    }
    step_now(it->first, *it->second, m);
  }
}

std::map<int32_t, std::vector<raft::Message>> ReplicaSet::drive(
    std::vector<std::pair<int64_t, storage::Status>>* failed, std::vector<int64_t>* driven) {
  std::map<int32_t, std::vector<raft::Message>> by_peer;
  // 1. What each busy replica's Raft asks now (this thread).
  struct Job {
    int64_t group;
    PartitionReplica* replica;
    std::optional<raft::Ready> ready;
    storage::Status status;
  };
  std::vector<Job> jobs;
  auto collect = [&](int64_t g, PartitionReplica& r) {
    if (driven) driven->push_back(g);
    jobs.push_back({g, &r, r.take_ready(), {}});
  };
  // Only the replicas something happened to since the last drive (dirty_:
  // stepped, ticked into asking, woken or handed to a caller), not every
  // awake one: a drive runs for every batch received, and thousands of awake
  // groups would each be asked again for nothing.
  std::set<int64_t> dirty;
  dirty.swap(dirty_);
  for (int64_t g : dirty) {
    auto it = replicas_.find(g);
    if (it != replicas_.end() && it->second->busy()) collect(g, *it->second);
  }
  // 2. Persisted side by side (io_pool.h): each job touches its own replica's
  // log and raft.state only.
  std::vector<size_t> io;
  for (size_t i = 0; i < jobs.size(); ++i)
    if (jobs[i].ready) io.push_back(i);
  auto persist = [&](size_t k) {
    Job& j = jobs[io[k]];
    j.status = j.replica->persist(*j.ready);
  };
  if (pool_ && io.size() > 1) {
    pool_->run(io.size(), persist);
  } else {
    for (size_t k = 0; k < io.size(); ++k) persist(k);
  }
  // 3. Sent, committed and answered, in order (this thread); anything Raft
  // asks after that is driven here one replica at a time (rare).
  std::vector<raft::Message> out;
  for (Job& j : jobs) {
    out.clear();
    storage::Status st = j.status;
    if (st.ok() && j.ready) j.replica->finish(std::move(*j.ready), out);
    if (st.ok() && (j.replica->has_more() || !j.ready)) st = j.replica->drive(out);
    if (!st.ok()) {
      if (failed) failed->emplace_back(j.group, st);
      replicas_.erase(j.group);
      awake_.erase(j.group);
      dirty_.erase(j.group);
      continue;
    }
    for (auto& m : out) by_peer[static_cast<int32_t>(m.to.value())].push_back(std::move(m));
    if (quiesce_ticks_ > 0 && j.replica->quiesced() && !j.replica->busy()) awake_.erase(j.group);
  }
  if (quiesce_ticks_ > 0) {
    // Node liveness: an empty batch to each peer nothing else went to lately.
    for (int32_t p : peers_) {
      auto sent = last_sent_.try_emplace(p, now_ - beat_ticks()).first;
      if (by_peer.count(p)) {
        sent->second = now_;
      } else if (now_ - sent->second >= beat_ticks()) {
        by_peer[p];
        sent->second = now_;
      }
    }
  }
  return by_peer;
}

}  // namespace millrace::cluster
