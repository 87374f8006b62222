#include "client/assignor.h"

#include <algorithm>
#include <set>

namespace millrace::client {

GroupAssignment range_assign(const MemberSubscriptions& members, const PartitionCounts& partitions) {
  GroupAssignment out;
  for (auto& [m, s] : members) out[m];
  for (auto& [topic, n] : partitions) {
    std::vector<std::string> subs;
    for (auto& [m, s] : members)
      if (std::find(s.topics.begin(), s.topics.end(), topic) != s.topics.end()) subs.push_back(m);
    if (subs.empty()) continue;
    int32_t per = n / static_cast<int32_t>(subs.size());
    int32_t extra = n % static_cast<int32_t>(subs.size());
    int32_t p = 0;
    for (int32_t i = 0; i < static_cast<int32_t>(subs.size()); ++i) {
      int32_t take = per + (i < extra ? 1 : 0);
      for (int32_t k = 0; k < take; ++k) out[subs[static_cast<size_t>(i)]].push_back({topic, p++});
    }
  }
  return out;
}

GroupAssignment cooperative_sticky_assign(const MemberSubscriptions& members, const PartitionCounts& partitions) {
  GroupAssignment out;
  if (members.empty()) return out;
  for (auto& [m, s] : members) out[m];
  auto subscribed = [&](const std::string& m, const std::string& topic) {
    auto& t = members.at(m).topics;
    return std::find(t.begin(), t.end(), topic) != t.end();
  };
  // All partitions to place.
  std::vector<TopicPartition> all;
  for (auto& [topic, n] : partitions)
    for (int32_t p = 0; p < n; ++p) all.push_back({topic, p});
  std::set<TopicPartition> exists(all.begin(), all.end());
  // Quota: balanced counts over the members (a simplification that is exact when
  // every member subscribes to the same topics, the common case).
  size_t m = members.size();
  size_t floor_q = all.size() / m, ceil_q = floor_q + (all.size() % m ? 1 : 0);
  size_t at_ceil_left = all.size() % m;
  std::set<TopicPartition> placed;
  std::map<TopicPartition, std::string> previous_owner;
  // 1. Keep owned partitions up to the quota (highest generation wins a conflict).
  std::vector<std::pair<int32_t, std::string>> by_gen;
  for (auto& [id, s] : members) by_gen.push_back({-s.generation, id});
  std::sort(by_gen.begin(), by_gen.end());
  for (auto& [g, id] : by_gen) {
    auto& s = members.at(id);
    auto owned = s.owned;
    std::sort(owned.begin(), owned.end());
    for (auto& tp : owned) {
      if (!exists.count(tp) || placed.count(tp) || !subscribed(id, tp.topic)) continue;
      previous_owner.emplace(tp, id);
      size_t quota = floor_q;
      if (out[id].size() >= floor_q && at_ceil_left > 0 && ceil_q > floor_q) quota = ceil_q;
      if (out[id].size() < quota) {
        if (out[id].size() == floor_q && quota == ceil_q) --at_ceil_left;
        out[id].push_back(tp);
        placed.insert(tp);
      }
    }
  }
  // 2. Remaining partitions to the least loaded subscribed member; a partition taken
  //    from a previous owner is withheld (revoked first, assigned next generation).
  for (auto& tp : all) {
    if (placed.count(tp)) continue;
    std::string best;
    for (auto& [id, s] : members) {
      if (!subscribed(id, tp.topic)) continue;
      if (best.empty() || out[id].size() < out[best].size()) best = id;
    }
    if (best.empty()) continue;
    placed.insert(tp);
    auto prev = previous_owner.find(tp);
    if (prev != previous_owner.end() && prev->second != best) continue;   // withheld
    out[best].push_back(tp);
  }
  for (auto& [id, tps] : out) std::sort(tps.begin(), tps.end());
  return out;
}

}  // namespace millrace::client
