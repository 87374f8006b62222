// Private to coordination/: the state behind GroupCoordinator, shared by
// group_coordinator.cc (membership) and group_offsets.cc (offsets, queries).
// Everything here is GUARDED_BY(GroupCoordinator::mu_).
#pragma once

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "coordination/group_coordinator.h"

namespace millrace::coordination {

struct GroupCoordinator::Member {
  std::string id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::vector<Protocol> protocols;
  std::vector<uint8_t> assignment;
  JoinCallback join_cb;
  SyncCallback sync_cb;
  int64_t heartbeat_deadline_ms = 0;
  uint64_t join_seq = 0;  // order of first join, for choosing a leader

  const std::vector<uint8_t>* metadata_for(const std::string& protocol) const {
    for (const auto& p : protocols)
      if (p.name == protocol) return &p.metadata;
    return nullptr;
  }
};

struct GroupCoordinator::Group {
  std::string id;
  GroupState state = GroupState::kEmpty;
  int32_t generation = 0;
  std::string protocol_type;
  std::string protocol;
  std::string leader;
  std::map<std::string, std::unique_ptr<Member>> members;
  std::map<std::string, std::string> static_members;  // instance id -> member id
  std::map<std::string, int64_t> pending_members;     // MEMBER_ID_REQUIRED ids -> expiry
  int64_t rebalance_deadline_ms = 0;
  bool in_initial_delay = false;
  std::map<std::string, std::map<int32_t, CommittedOffset>> offsets;

  std::set<std::string> candidate_protocols() const {
    std::set<std::string> out;
    bool first = true;
    for (const auto& [id, m] : members) {
      std::set<std::string> mine;
      for (const auto& p : m->protocols) mine.insert(p.name);
      if (first) {
        out = std::move(mine);
        first = false;
      } else {
        std::set<std::string> both;
        std::set_intersection(out.begin(), out.end(), mine.begin(), mine.end(), std::inserter(both, both.end()));
        out = std::move(both);
      }
    }
    return out;
  }

  std::string select_protocol() const {
    auto candidates = candidate_protocols();
    std::map<std::string, int> votes;
    for (const auto& [id, m] : members)
      for (const auto& p : m->protocols)
        if (candidates.count(p.name)) {
          ++votes[p.name];
          break;
        }
    std::string best;
    int best_votes = -1;
    for (const auto& [name, n] : votes)
      if (n > best_votes) {
        best = name;
        best_votes = n;
      }
    return best;
  }
};

struct GroupCoordinator::Deferred {
  std::vector<std::pair<JoinCallback, JoinResult>> joins;
  std::vector<std::pair<SyncCallback, SyncResult>> syncs;
  void run() {
    for (auto& [cb, r] : joins) cb(std::move(r));
    for (auto& [cb, r] : syncs) cb(std::move(r));
  }
};

}  // namespace millrace::coordination
