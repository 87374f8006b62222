#include "cluster/replication/replica_set.h"

namespace millrace::cluster {

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
                                raft::Durability durability) {
  if (replicas_.count(group))
    return {storage::Errc::kInvalidArgument, "raft group " + std::to_string(group) + " is already held here"};
  PartitionReplicaOptions o;
  o.me = me_;
  o.group = group;
  o.replicas = replicas;
  o.election_ticks = election_ticks_;
  o.durability = durability;
  o.seed = static_cast<uint64_t>(group) ^ (static_cast<uint64_t>(me_) << 32);
  auto r = PartitionReplica::open(std::move(log), o);
  if (!r.ok()) return r.status();
  replicas_[group] = std::move(*r);
  return {};
}

void ReplicaSet::remove(int64_t group) { replicas_.erase(group); }

PartitionReplica* ReplicaSet::get(int64_t group) {
  auto it = replicas_.find(group);
  return it == replicas_.end() ? nullptr : it->second.get();
}

void ReplicaSet::tick() {
  for (auto& [g, r] : replicas_) r->tick();
}

void ReplicaSet::deliver(const std::vector<raft::Message>& messages) {
  for (const auto& m : messages) {
    auto it = replicas_.find(m.group.value());
    if (it == replicas_.end()) {
      ++dropped_;
      continue;
    }
    it->second->step(m);
  }
}

std::map<int32_t, std::vector<raft::Message>> ReplicaSet::drive(
    std::vector<std::pair<int64_t, storage::Status>>* failed) {
  std::map<int32_t, std::vector<raft::Message>> by_peer;
  std::vector<raft::Message> out;
  for (auto it = replicas_.begin(); it != replicas_.end();) {
    out.clear();
    if (auto st = it->second->drive(out); !st.ok()) {
      if (failed) failed->emplace_back(it->first, st);
      it = replicas_.erase(it);
      continue;
    }
    for (auto& m : out) by_peer[static_cast<int32_t>(m.to.value())].push_back(std::move(m));
    ++it;
  }
  return by_peer;
}

}  // namespace millrace::cluster
