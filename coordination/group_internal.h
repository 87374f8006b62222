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
  // Takes the request's client facts and protocols; its session starts anew.
  void update_from(const JoinRequest& req, int64_t now_ms) {
    client_id = req.client_id;
    client_host = req.client_host;
    session_timeout_ms = req.session_timeout_ms;
    rebalance_timeout_ms = req.rebalance_timeout_ms;
    protocols = req.protocols;
    heartbeat_deadline_ms = now_ms + req.session_timeout_ms;
  }
  bool same_protocols(const JoinRequest& req) const {
    if (protocols.size() != req.protocols.size()) return false;
    for (size_t i = 0; i < req.protocols.size(); ++i)
      if (protocols[i].name != req.protocols[i].name || protocols[i].metadata != req.protocols[i].metadata)
        return false;
    return true;
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
  // When the group last became Empty (Kafka's currentStateTimestamp of an
  // Empty group); -1 when unknown (then each offset's commit time counts).
  int64_t empty_since_ms = -1;
  // Staged writes of this group not yet stored, in all and per offset (the
  // offsets retention pass leaves an offset with a commit in flight alone).
  int pending_writes = 0;
  std::map<std::pair<std::string, int32_t>, int> pending_offsets;
  // The leader's SyncGroup of this generation is being stored.
  bool sync_write_pending = false;

  Member* member(const std::string& member_id) const {
    auto it = members.find(member_id);
    return it == members.end() ? nullptr : it->second.get();
  }

  // Kafka's ClassicGroup.validateMember: a request naming a group.instance.id
  // must name the member that instance currently maps to (unknown instance:
  // UNKNOWN_MEMBER_ID; mapped to another member id: FENCED_INSTANCE_ID, which
  // is how the older of two consumers sharing an instance id learns it was
  // replaced); then the member id must be a member.
  int16_t validate_member(const std::string& member_id, const std::optional<std::string>& instance_id) const {
    if (instance_id) {
      auto s = static_members.find(*instance_id);
      if (s == static_members.end()) return err::kUnknownMemberId;
      if (s->second != member_id) return err::kFencedInstanceId;
    }
    return members.count(member_id) ? err::kNone : err::kUnknownMemberId;
  }

  // A non-empty group accepts a joiner only with the same protocol type and
  // at least one protocol every member supports (Kafka's supportsProtocols).
  bool supports(const JoinRequest& req) const {
    if (members.empty()) return true;
    if (protocol_type != req.protocol_type) return false;
    auto candidates = candidate_protocols();
    for (const auto& p : req.protocols)
      if (candidates.count(p.name)) return true;
    return false;
  }

  // The JoinGroup answer of the current generation for `m`; the leader also
  // gets every member's metadata of the chosen protocol.
  JoinResult join_result_for(const Member& m) const {
    JoinResult r;
    r.generation_id = generation;
    r.protocol_type = protocol_type;
    r.protocol_name = protocol;
    r.leader = leader;
    r.member_id = m.id;
    if (m.id == leader)
      for (const auto& [id, other] : members)
        if (auto* md = other->metadata_for(protocol)) r.members.push_back({id, other->instance_id, *md});
    return r;
  }

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
  std::vector<std::function<void()>> later;  // other answers (commits, deletes)
  void join_error(JoinCallback cb, int16_t code, std::string member_id) {
    JoinResult r;
    r.error = code;
    r.member_id = std::move(member_id);
    joins.emplace_back(std::move(cb), std::move(r));
  }
  void sync_error(SyncCallback cb, int16_t code) {
    SyncResult r;
    r.error = code;
    syncs.emplace_back(std::move(cb), std::move(r));
  }
  void run() {
    for (auto& [cb, r] : joins) cb(std::move(r));
    for (auto& [cb, r] : syncs) cb(std::move(r));
    for (auto& f : later) f();
  }
};

}  // namespace millrace::coordination
