// ReplicaSet: every partition replica one broker holds, driven together, with
// their Raft messages coalesced per peer broker (Redpanda's shape: one batch
// per broker pair per round, whatever the number of partitions the two share;
// raft/rpc's codec packs a beat that changes nothing into 29 bytes).
//
//   tick()             every replica's clock (the owner's timer); with quiescence,
//                      only replicas that are awake (get() wakes one for its caller)
//   deliver(messages)  a batch another broker sent: each message stepped into
//                      its group (messages for groups this broker does not
//                      hold are dropped and counted)
//   drive()            every replica something happened to since the last
//                      drive (a message, a tick that made it ask, get())
//                      persisted (side by side on an IoPool when
//                      io_threads > 0) and its messages collected, by
//                      destination broker: one entry per peer, ready for
//                      raft::rpc::encode_batch
//
// Idle groups quiesce (quiesce_ticks > 0, raft::Options::quiesce_ticks): an
// idle, caught-up group sends nothing at all. What notices a dead leader then
// is node liveness, per broker pair, as in CockroachDB: drive() adds an empty
// batch for a peer broker this set shares a group with when nothing else
// went to it for beat_ticks(), and tick() wakes every quiescent follower
// whose leader's broker has not been heard from (deliver, heard_from) for an
// election timeout, so it campaigns as if its leader had stopped beating.
// The owner sends the empty batches and calls heard_from for every batch it
// receives, empty ones included.
//
// Group ids: group_id(topic id, partition), a 64-bit hash; add() refuses a
// group id already held by another partition rather than mix two groups.
// Not thread-safe: one owner (the broker's replication thread) calls it.
#pragma once

#include <algorithm>
#include <array>
#include <deque>
#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "cluster/replication/io_pool.h"
#include "cluster/replication/partition_replica.h"

namespace millrace::cluster {

int64_t group_id(const std::array<uint8_t, 16>& topic_id, int32_t partition);

class ReplicaSet {
 public:
  // io_threads > 0: drive() persists the replicas' Readies side by side on an
  // IoPool of that many threads (plus the caller's), so a round that appends
  // to many partitions pays for their fdatasyncs about once.
  // lag_ticks: PartitionReplicaOptions::lag_ticks (0: the election timeout).
  explicit ReplicaSet(int32_t me, int election_ticks = 10, int quiesce_ticks = 0, int io_threads = 0,
                      int lag_ticks = 0)
      : me_(me), election_ticks_(election_ticks), quiesce_ticks_(quiesce_ticks),
        lag_ticks_(lag_ticks > 0 ? lag_ticks : election_ticks),
        pool_(io_threads > 0 ? std::make_unique<IoPool>(io_threads) : nullptr) {}

  // Opens the replica of `group` over `log` (its first configuration: `replicas`;
  // `joining`: none, it joins an existing group, PartitionReplicaOptions::joining).
  storage::Status add(int64_t group, std::shared_ptr<storage::Log> log, const std::vector<int32_t>& replicas,
                      raft::Durability durability = raft::Durability::kSynced, bool joining = false,
                      const std::vector<int32_t>& adding = {});
  void remove(int64_t group);
  PartitionReplica* get(int64_t group);
  // Without waking it (reading its facts).
  const PartitionReplica* peek(int64_t group) const {
    auto it = replicas_.find(group);
    return it == replicas_.end() ? nullptr : it->second.get();
  }
  size_t size() const { return replicas_.size(); }

  void tick();
  // Learner catch-up throttle (leader.replication.throttled.rate): the bytes per
  // second this broker sends to learners (replicas a reassignment adds) over all
  // its groups; 0: unlimited. `tick_ms`: how long a tick() is.
  void set_learner_rate(int64_t bytes_per_s, int tick_ms);
  uint64_t learner_bytes() const { return learner_bytes_; }  // sent to learners so far
  // follower.replication.throttled.rate: the bytes per second of catch-up
  // appends this broker takes in as a follower (PartitionReplica::catching_up)
  // over all its groups; 0: unlimited. An append beyond the budget waits here
  // (in order, per group) and is stepped on a later tick: its leader sends
  // more only as it is answered, so what crosses the network follows too.
  void set_follower_rate(int64_t bytes_per_s);
  uint64_t follower_bytes() const { return follower_bytes_; }  // catch-up taken in so far
  size_t deferred() const;  // appends waiting for the follower throttle now
  // Which catch-up the throttles govern for `group` (throttle.h).
  void set_throttle(int64_t group, ThrottleScope scope);
  void deliver(const std::vector<raft::Message>& messages);
  void heard_from(int32_t broker);  // any batch from `broker`, empty or not
  // `broker`'s process is gone (its port refuses connections): every group it
  // leads here elects another leader within a few ticks instead of an
  // election timeout (raft::Raft::leader_unreachable). A hint only.
  void peer_unreachable(int32_t broker);
  // Per destination broker, the messages to send now. A replica whose drive
  // failed is reported in `failed` (group, why) and removed: its partition is
  // offline until the owner opens it again.
  // `driven`, when given, gets every group driven this round (whose leader,
  // term or commit may have moved).
  std::map<int32_t, std::vector<raft::Message>> drive(std::vector<std::pair<int64_t, storage::Status>>* failed = nullptr,
                                                      std::vector<int64_t>* driven = nullptr);

  uint64_t dropped() const { return dropped_; }  // messages for groups not held here
  size_t quiesced() const;                         // replicas quiescent now
  size_t awake() const { return awake_.size(); }   // replicas a tick still runs (with quiescence)
  int beat_ticks() const { return std::max(1, election_ticks_ / 3); }
  // A peer broker this set shares a group with that has not been heard from
  // for an election timeout (as of the last tick).
  bool is_silent(int32_t broker) const { return silent_.count(broker) > 0; }
  const std::set<int32_t>& silent_peers() const { return silent_; }

 private:
  bool silent(int32_t broker);
  int32_t me_;
  int election_ticks_;
  int quiesce_ticks_;
  int lag_ticks_;
  int64_t now_ = 0;  // ticks
  std::map<int32_t, int64_t> last_heard_, last_sent_;  // by peer broker, in ticks
  std::vector<int32_t> peers_;  // the brokers this set shares a group with
  bool peers_dirty_ = true;
  std::set<int32_t> silent_;    // peers not heard for an election timeout
  // Groups to tick and drive (with quiescence): all but the quiescent ones
  // with nothing to do, so idle partitions cost nothing per tick.
  std::set<int64_t> awake_;
  // Groups drive() must ask: stepped, ticked into having something to do,
  // woken, or handed to a caller since the last drive.
  std::set<int64_t> dirty_;
  std::map<int64_t, std::unique_ptr<PartitionReplica>> replicas_;
  uint64_t dropped_ = 0;
  size_t learner_budget() const;
  void learner_sent(size_t bytes);
  int64_t learner_rate_ = 0;   // bytes/s; 0: unlimited
  int tick_ms_ = 50;
  double learner_tokens_ = 0;  // may go below zero (an append larger than what was left)
  uint64_t learner_bytes_ = 0;
  void step_now(int64_t group, PartitionReplica& r, const raft::Message& m);
  size_t intake_cost(const PartitionReplica& r, const raft::Message& m) const;
  void take_in(int64_t group, PartitionReplica& r, const raft::Message& m, size_t cost);
  void release_deferred();
  int64_t follower_rate_ = 0;   // bytes/s; 0: unlimited
  double follower_tokens_ = 0;  // as learner_tokens_
  uint64_t follower_bytes_ = 0;
  uint64_t follower_dropped_ = 0;
  std::map<int64_t, std::deque<raft::Message>> deferred_;  // by group, in arrival order
  std::unique_ptr<IoPool> pool_;
};

}  // namespace millrace::cluster
