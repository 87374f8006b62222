#include "coordination/group_coordinator.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "coordination/group_internal.h"
#include "coordination/offsets_format.h"

namespace millrace::coordination {

const char* state_name(GroupState s) {
  switch (s) {
    case GroupState::kEmpty: return "Empty";
    case GroupState::kPreparingRebalance: return "PreparingRebalance";
    case GroupState::kCompletingRebalance: return "CompletingRebalance";
    case GroupState::kStable: return "Stable";
    case GroupState::kDead: return "Dead";
  }
  return "Unknown";
}

GroupCoordinator::GroupCoordinator(CoordinatorOptions options, GroupStore* store)
    : options_(options), store_(store) {
  std::random_device rd;
  member_seq_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

GroupCoordinator::~GroupCoordinator() = default;

GroupCoordinator::Group& GroupCoordinator::group_for(const std::string& id) {
  auto& slot = groups_[id];
  if (!slot) {
    slot = std::make_unique<Group>();
    slot->id = id;
  }
  return *slot;
}

GroupCoordinator::Group* GroupCoordinator::find(const std::string& id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

std::string GroupCoordinator::new_member_id(const std::string& client_id,
                                            const std::optional<std::string>& instance_id) {
  // splitmix64 over a per-coordinator seeded counter: unique, unguessable enough.
  uint64_t z = (member_seq_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(z));
  return (instance_id ? *instance_id : client_id) + "-" + hex;
}

void GroupCoordinator::join(const JoinRequest& req, int64_t now_ms, JoinCallback done) {
  Deferred out;
  auto fail = [&](int16_t code, std::string member_id = {}) {
    JoinResult r;
    r.error = code;
    r.member_id = std::move(member_id);
    out.joins.emplace_back(std::move(done), std::move(r));
  };
  {
    std::lock_guard lock(mu_);
    if (req.group_id.empty()) {
      fail(err::kInvalidGroupId);
    } else if (req.session_timeout_ms < options_.min_session_timeout_ms ||
               req.session_timeout_ms > options_.max_session_timeout_ms) {
      fail(err::kInvalidSessionTimeout, req.member_id);
    } else if (req.protocol_type.empty() || req.protocols.empty()) {
      fail(err::kInconsistentGroupProtocol, req.member_id);
    } else {
      Group& g = group_for(req.group_id);
      bool compatible = true;
      if (!g.members.empty()) {
        auto candidates = g.candidate_protocols();
        bool any = false;
        for (const auto& p : req.protocols) any = any || candidates.count(p.name) > 0;
        compatible = any && g.protocol_type == req.protocol_type;
      }
      auto fill = [&](Member& m) {
        m.client_id = req.client_id;
        m.client_host = req.client_host;
        m.session_timeout_ms = req.session_timeout_ms;
        m.rebalance_timeout_ms = req.rebalance_timeout_ms;
        m.protocols = req.protocols;
        m.heartbeat_deadline_ms = now_ms + req.session_timeout_ms;
      };
      auto add_member = [&](const std::string& id) {
        auto m = std::make_unique<Member>();
        m->id = id;
        m->instance_id = req.group_instance_id;
        m->join_seq = ++member_seq_;
        fill(*m);
        m->join_cb = std::move(done);
        if (req.group_instance_id) g.static_members[*req.group_instance_id] = id;
        if (g.members.empty()) g.protocol_type = req.protocol_type;
        g.members[id] = std::move(m);
        if (g.state == GroupState::kPreparingRebalance)
          maybe_complete_join(g, now_ms, out, false);
        else
          prepare_rebalance(g, now_ms, out);
      };
      auto current_result = [&](const Member& m) {
        JoinResult r;
        r.generation_id = g.generation;
        r.protocol_type = g.protocol_type;
        r.protocol_name = g.protocol;
        r.leader = g.leader;
        r.member_id = m.id;
        if (m.id == g.leader)
          for (const auto& [id, other] : g.members)
            if (auto* md = other->metadata_for(g.protocol)) r.members.push_back({id, other->instance_id, *md});
        return r;
      };
      auto same_protocols = [](const Member& m, const JoinRequest& r) {
        if (m.protocols.size() != r.protocols.size()) return false;
        for (size_t i = 0; i < r.protocols.size(); ++i)
          if (m.protocols[i].name != r.protocols[i].name || m.protocols[i].metadata != r.protocols[i].metadata)
            return false;
        return true;
      };

      if (g.state == GroupState::kDead) {
        fail(err::kCoordinatorNotAvailable, req.member_id);
      } else if (!compatible) {
        fail(err::kInconsistentGroupProtocol, req.member_id);
      } else if (req.member_id.empty()) {
        if (req.group_instance_id && g.static_members.count(*req.group_instance_id)) {
          // A static member restarting: it takes over its old identity under a new id.
          std::string old_id = g.static_members[*req.group_instance_id];
          auto node = g.members.extract(old_id);
          auto& m = node.mapped();
          if (m->join_cb) {
            JoinResult fenced;
            fenced.error = err::kFencedInstanceId;
            fenced.member_id = old_id;
            out.joins.emplace_back(std::move(m->join_cb), std::move(fenced));
            m->join_cb = nullptr;
          }
          if (m->sync_cb) {
            SyncResult fenced;
            fenced.error = err::kFencedInstanceId;
            out.syncs.emplace_back(std::move(m->sync_cb), std::move(fenced));
            m->sync_cb = nullptr;
          }
          bool unchanged = same_protocols(*m, req);
          std::string new_id = new_member_id(req.client_id, req.group_instance_id);
          m->id = new_id;
          fill(*m);
          node.key() = new_id;
          g.members.insert(std::move(node));
          g.static_members[*req.group_instance_id] = new_id;
          if (g.leader == old_id) g.leader = new_id;
          Member& mm = *g.members[new_id];
          if (g.state == GroupState::kStable && unchanged) {
            (void)persist_group(g, now_ms);  // the stored group must name the new member id
            out.joins.emplace_back(std::move(done), current_result(mm));
          } else {
            mm.join_cb = std::move(done);
            if (g.state == GroupState::kPreparingRebalance)
              maybe_complete_join(g, now_ms, out, false);
            else
              prepare_rebalance(g, now_ms, out);
          }
        } else if (static_cast<int64_t>(g.members.size()) >= options_.max_group_size) {
          fail(err::kGroupMaxSizeReached);
        } else if (req.require_known_member_id && !req.group_instance_id) {
          std::string id = new_member_id(req.client_id, std::nullopt);
          g.pending_members[id] = now_ms + req.session_timeout_ms;
          fail(err::kMemberIdRequired, id);
        } else {
          add_member(new_member_id(req.client_id, req.group_instance_id));
        }
      } else {
        auto it = g.members.find(req.member_id);
        if (it == g.members.end()) {
          if (g.pending_members.erase(req.member_id)) {
            if (static_cast<int64_t>(g.members.size()) >= options_.max_group_size)
              fail(err::kGroupMaxSizeReached, req.member_id);
            else
              add_member(req.member_id);
          } else {
            fail(err::kUnknownMemberId, req.member_id);
          }
        } else if (req.group_instance_id && g.static_members[*req.group_instance_id] != req.member_id) {
          fail(err::kFencedInstanceId, req.member_id);
        } else {
          Member& m = *it->second;
          bool unchanged = same_protocols(m, req);
          switch (g.state) {
            case GroupState::kPreparingRebalance:
              fill(m);
              if (m.join_cb) {
                JoinResult superseded;
                superseded.error = err::kRebalanceInProgress;
                superseded.member_id = m.id;
                out.joins.emplace_back(std::move(m.join_cb), std::move(superseded));
              }
              m.join_cb = std::move(done);
              maybe_complete_join(g, now_ms, out, false);
              break;
            case GroupState::kCompletingRebalance:
              if (unchanged) {
                fill(m);
                out.joins.emplace_back(std::move(done), current_result(m));
              } else {
                fill(m);
                m.join_cb = std::move(done);
                prepare_rebalance(g, now_ms, out);
              }
              break;
            case GroupState::kStable:
              fill(m);
              if (unchanged && m.id != g.leader) {
                out.joins.emplace_back(std::move(done), current_result(m));
              } else {
                m.join_cb = std::move(done);
                prepare_rebalance(g, now_ms, out);
              }
              break;
            case GroupState::kEmpty:
            case GroupState::kDead:
              fail(err::kUnknownMemberId, req.member_id);
              break;
          }
        }
      }
    }
  }
  out.run();
}

void GroupCoordinator::prepare_rebalance(Group& g, int64_t now_ms, Deferred& out) {
  if (g.state == GroupState::kCompletingRebalance) {
    for (auto& [id, m] : g.members) {
      m->assignment.clear();
      if (m->sync_cb) {
        SyncResult r;
        r.error = err::kRebalanceInProgress;
        out.syncs.emplace_back(std::move(m->sync_cb), std::move(r));
        m->sync_cb = nullptr;
      }
    }
  }
  int32_t max_rebalance = 0;
  for (const auto& [id, m] : g.members) max_rebalance = std::max(max_rebalance, m->rebalance_timeout_ms);
  if (g.state == GroupState::kEmpty) {
    g.in_initial_delay = options_.initial_rebalance_delay_ms > 0;
    g.rebalance_deadline_ms = now_ms + std::min(options_.initial_rebalance_delay_ms, max_rebalance);
  } else {
    g.in_initial_delay = false;
    g.rebalance_deadline_ms = now_ms + max_rebalance;
  }
  g.state = GroupState::kPreparingRebalance;
  maybe_complete_join(g, now_ms, out, false);
}

void GroupCoordinator::maybe_complete_join(Group& g, int64_t now_ms, Deferred& out, bool deadline_passed) {
  if (g.state != GroupState::kPreparingRebalance) return;
  bool all_joined = g.pending_members.empty();
  for (const auto& [id, m] : g.members) all_joined = all_joined && static_cast<bool>(m->join_cb);
  if (g.in_initial_delay && !deadline_passed && !g.members.empty()) return;
  if (!all_joined && !deadline_passed) return;
  g.in_initial_delay = false;

  // Members that did not rejoin in time leave the group.
  for (auto it = g.members.begin(); it != g.members.end();) {
    if (!it->second->join_cb) {
      if (it->second->instance_id) g.static_members.erase(*it->second->instance_id);
      it = g.members.erase(it);
    } else {
      ++it;
    }
  }
  ++g.generation;
  if (g.members.empty()) {
    g.state = GroupState::kEmpty;
    g.protocol.clear();
    g.leader.clear();
    (void)persist_group(g, now_ms);
    return;
  }
  g.protocol = g.select_protocol();
  if (!g.members.count(g.leader)) {
    const Member* first = nullptr;
    for (const auto& [id, m] : g.members)
      if (!first || m->join_seq < first->join_seq) first = m.get();
    g.leader = first->id;
  }
  g.state = GroupState::kCompletingRebalance;
  for (auto& [id, m] : g.members) {
    JoinResult r;
    r.generation_id = g.generation;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol;
    r.leader = g.leader;
    r.member_id = id;
    if (id == g.leader)
      for (const auto& [oid, other] : g.members)
        if (auto* md = other->metadata_for(g.protocol)) r.members.push_back({oid, other->instance_id, *md});
    m->heartbeat_deadline_ms = now_ms + m->session_timeout_ms;
    out.joins.emplace_back(std::move(m->join_cb), std::move(r));
    m->join_cb = nullptr;
  }
  // Not persisted yet: the generation is stored when the leader's SyncGroup
  // completes it (with the assignments), as Kafka does.
}

void GroupCoordinator::sync(const SyncRequest& req, int64_t now_ms, SyncCallback done) {
  Deferred out;
  {
    std::lock_guard lock(mu_);
    SyncResult r;
    Group* g = find(req.group_id);
    auto it = g ? g->members.find(req.member_id) : decltype(g->members.end()){};
    if (!g || it == g->members.end()) {
      r.error = err::kUnknownMemberId;
    } else if (req.group_instance_id && g->static_members[*req.group_instance_id] != req.member_id) {
      r.error = err::kFencedInstanceId;
    } else if (req.generation_id != g->generation) {
      r.error = err::kIllegalGeneration;
    } else if (g->state == GroupState::kPreparingRebalance) {
      r.error = err::kRebalanceInProgress;
    } else if (g->state == GroupState::kStable) {
      r.protocol_type = g->protocol_type;
      r.protocol_name = g->protocol;
      r.assignment = it->second->assignment;
      it->second->heartbeat_deadline_ms = now_ms + it->second->session_timeout_ms;
    } else if (g->state == GroupState::kCompletingRebalance) {
      Member& m = *it->second;
      m.heartbeat_deadline_ms = now_ms + m.session_timeout_ms;
      if (m.sync_cb) {
        SyncResult superseded;
        superseded.error = err::kRebalanceInProgress;
        out.syncs.emplace_back(std::move(m.sync_cb), std::move(superseded));
      }
      m.sync_cb = std::move(done);
      if (m.id == g->leader) {
        for (auto& [id, mem] : g->members) mem->assignment.clear();
        for (const auto& [id, bytes] : req.assignments) {
          auto t = g->members.find(id);
          if (t != g->members.end()) t->second->assignment = bytes;
        }
        bool stored = persist_group(*g, now_ms);
        if (stored) g->state = GroupState::kStable;
        for (auto& [id, mem] : g->members) {
          if (!mem->sync_cb) continue;
          SyncResult res;
          if (stored) {
            res.protocol_type = g->protocol_type;
            res.protocol_name = g->protocol;
            res.assignment = mem->assignment;
          } else {
            res.error = err::kCoordinatorNotAvailable;
          }
          out.syncs.emplace_back(std::move(mem->sync_cb), std::move(res));
          mem->sync_cb = nullptr;
        }
        // As Kafka: a generation that could not be stored is not run; the
        // members got the error and the group rebalances.
        if (!stored) prepare_rebalance(*g, now_ms, out);
      }
      done = nullptr;
    } else {
      r.error = err::kUnknownMemberId;
    }
    if (done) out.syncs.emplace_back(std::move(done), std::move(r));
  }
  out.run();
}

int16_t GroupCoordinator::heartbeat(const std::string& group_id, const std::string& member_id, int32_t generation,
                                    const std::optional<std::string>& instance_id, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Group* g = find(group_id);
  if (!g) return err::kUnknownMemberId;
  auto it = g->members.find(member_id);
  if (it == g->members.end()) return err::kUnknownMemberId;
  if (instance_id && g->static_members[*instance_id] != member_id) return err::kFencedInstanceId;
  if (generation != g->generation) return err::kIllegalGeneration;
  it->second->heartbeat_deadline_ms = now_ms + it->second->session_timeout_ms;
  if (g->state == GroupState::kPreparingRebalance) return err::kRebalanceInProgress;
  return err::kNone;
}

void GroupCoordinator::remove_member(Group& g, const std::string& member_id, int64_t now_ms, Deferred& out) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  Member& m = *it->second;
  if (m.join_cb) {
    JoinResult r;
    r.error = err::kUnknownMemberId;
    r.member_id = m.id;
    out.joins.emplace_back(std::move(m.join_cb), std::move(r));
  }
  if (m.sync_cb) {
    SyncResult r;
    r.error = err::kUnknownMemberId;
    out.syncs.emplace_back(std::move(m.sync_cb), std::move(r));
  }
  if (m.instance_id) g.static_members.erase(*m.instance_id);
  g.members.erase(it);
  if (g.state == GroupState::kStable || g.state == GroupState::kCompletingRebalance)
    prepare_rebalance(g, now_ms, out);
  else if (g.state == GroupState::kPreparingRebalance)
    maybe_complete_join(g, now_ms, out, false);
}

std::vector<int16_t> GroupCoordinator::leave(const std::string& group_id, const std::vector<LeaveMember>& members,
                                             int64_t now_ms) {
  Deferred out;
  std::vector<int16_t> result;
  {
    std::lock_guard lock(mu_);
    Group* g = find(group_id);
    result.push_back(g ? err::kNone : err::kUnknownMemberId);
    for (const auto& lm : members) {
      if (!g) {
        result.push_back(err::kUnknownMemberId);
        continue;
      }
      std::string id = lm.member_id;
      if (lm.group_instance_id) {
        auto s = g->static_members.find(*lm.group_instance_id);
        if (s == g->static_members.end()) {
          result.push_back(err::kUnknownMemberId);
          continue;
        }
        if (!id.empty() && id != s->second) {
          result.push_back(err::kFencedInstanceId);
          continue;
        }
        id = s->second;
      }
      if (!g->members.count(id)) {
        result.push_back(err::kUnknownMemberId);
        continue;
      }
      remove_member(*g, id, now_ms, out);
      result.push_back(err::kNone);
    }
    if (g && members.size() == 1) result[0] = result[1];
  }
  out.run();
  return result;
}

void GroupCoordinator::tick(int64_t now_ms) {
  Deferred out;
  {
    std::lock_guard lock(mu_);
    for (auto& [gid, gp] : groups_) {
      Group& g = *gp;
      for (auto it = g.pending_members.begin(); it != g.pending_members.end();)
        it = it->second <= now_ms ? g.pending_members.erase(it) : std::next(it);
      std::vector<std::string> expired;
      for (const auto& [id, m] : g.members)
        if (!m->join_cb && !m->sync_cb && m->heartbeat_deadline_ms <= now_ms) expired.push_back(id);
      for (const auto& id : expired) remove_member(g, id, now_ms, out);
      if (g.state == GroupState::kPreparingRebalance)
        maybe_complete_join(g, now_ms, out, now_ms >= g.rebalance_deadline_ms);
    }
  }
  out.run();
}

}  // namespace millrace::coordination
