#include "cluster/replication/preferred_leader.h"

#include <algorithm>

namespace millrace::cluster {

PreferredChoice choose_preferred_leader(int32_t leader, const std::vector<int32_t>& replicas,
                                        const std::vector<int32_t>& in_sync, const std::set<int32_t>& can_lead) {
  PreferredChoice c;
  if (replicas.empty()) return c;
  c.preferred = replicas.front();
  if (leader == c.preferred) {
    c.verdict = PreferredVerdict::kAlreadyLeader;
  } else if (leader < 0) {
    c.verdict = PreferredVerdict::kNoLeader;
  } else if (!can_lead.count(c.preferred)) {
    c.verdict = PreferredVerdict::kNotAvailable;
  } else if (std::find(in_sync.begin(), in_sync.end(), c.preferred) == in_sync.end()) {
    c.verdict = PreferredVerdict::kNotInSync;
  } else {
    c.verdict = PreferredVerdict::kMove;
  }
  return c;
}

std::string PreferredChoice::why() const {
  const std::string b = "preferred replica " + std::to_string(preferred);
  switch (verdict) {
    case PreferredVerdict::kNoReplicas: return "the partition has no replicas";
    case PreferredVerdict::kAlreadyLeader: return b + " already leads";
    case PreferredVerdict::kNoLeader: return "the partition has no leader now (an election is under way): retry";
    case PreferredVerdict::kNotAvailable:
      return b + " is not available (not registered, fenced or in controlled shutdown)";
    case PreferredVerdict::kNotInSync: return b + " is not in sync (its log lacks committed entries)";
    case PreferredVerdict::kMove: return "";
  }
  return "";
}

}  // namespace millrace::cluster
