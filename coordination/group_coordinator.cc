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
    : options_(options), store_(store), partitions_(static_cast<size_t>(std::max(1, options.offsets_partitions))) {
  options_.offsets_partitions = static_cast<int32_t>(partitions_.size());
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
  ticking_.insert(id);
  return *slot;
}

GroupCoordinator::Group* GroupCoordinator::find(const std::string& id) const {
  auto it = groups_.find(id);
  if (it == groups_.end()) return nullptr;
  ticking_.insert(id);
  return it->second.get();
}

bool GroupCoordinator::idle(const Group& g) {
  return g.members.empty() && g.pending_members.empty() && g.state != GroupState::kPreparingRebalance;
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
  {
    std::lock_guard lock(mu_);
    if (req.group_id.empty()) {
      out.join_error(std::move(done), err::kInvalidGroupId, {});
    } else if (int16_t e = load_error(req.group_id); e != err::kNone) {
      out.join_error(std::move(done), e, req.member_id);
    } else if (req.session_timeout_ms < options_.min_session_timeout_ms ||
               req.session_timeout_ms > options_.max_session_timeout_ms) {
      out.join_error(std::move(done), err::kInvalidSessionTimeout, req.member_id);
    } else if (req.protocol_type.empty() || req.protocols.empty()) {
      out.join_error(std::move(done), err::kInconsistentGroupProtocol, req.member_id);
    } else if (req.member_id.empty()) {
      join_new_member(req, now_ms, std::move(done), out);
    } else {
      join_existing_member(req, now_ms, std::move(done), out);
    }
  }
  persist_ready();
  out.run();
}

void GroupCoordinator::join_new_member(const JoinRequest& req, int64_t now_ms, JoinCallback done, Deferred& out) {
  Group* g = find(req.group_id);
  if (g && g->state == GroupState::kDead) {
    out.join_error(std::move(done), err::kCoordinatorNotAvailable, {});
    return;
  }
  if (g && !g->supports(req)) {
    out.join_error(std::move(done), err::kInconsistentGroupProtocol, {});
    return;
  }
  if (g && req.group_instance_id) {
    auto s = g->static_members.find(*req.group_instance_id);
    if (s != g->static_members.end()) {
      std::string old_id = s->second;  // a copy: replace_static_member rewrites the map
      replace_static_member(*g, old_id, req, now_ms, std::move(done), out);
      return;
    }
  }
  if (static_cast<int64_t>(g ? g->members.size() : 0) >= options_.max_group_size) {
    out.join_error(std::move(done), err::kGroupMaxSizeReached, {});
    return;
  }
  // Only a join that will be served creates its group.
  Group& group = g ? *g : group_for(req.group_id);
  if (!g) group.empty_since_ms = now_ms;
  if (req.require_known_member_id && !req.group_instance_id) {
    std::string id = new_member_id(req.client_id, std::nullopt);
    group.pending_members[id] = now_ms + req.session_timeout_ms;
    out.join_error(std::move(done), err::kMemberIdRequired, id);
    return;
  }
  add_member(group, new_member_id(req.client_id, req.group_instance_id), req, now_ms, std::move(done), out);
}

void GroupCoordinator::join_existing_member(const JoinRequest& req, int64_t now_ms, JoinCallback done,
                                            Deferred& out) {
  Group* g = find(req.group_id);
  if (!g) {  // a member id of a group that does not exist: no group is created
    out.join_error(std::move(done), err::kUnknownMemberId, req.member_id);
    return;
  }
  if (g->state == GroupState::kDead) {
    out.join_error(std::move(done), err::kCoordinatorNotAvailable, req.member_id);
    return;
  }
  if (!g->supports(req)) {
    out.join_error(std::move(done), err::kInconsistentGroupProtocol, req.member_id);
    return;
  }
  // A pending (MEMBER_ID_REQUIRED) id is never static; with an instance id
  // the request goes through validate_member like any other.
  if (!req.group_instance_id && g->pending_members.erase(req.member_id)) {
    if (static_cast<int64_t>(g->members.size()) >= options_.max_group_size)
      out.join_error(std::move(done), err::kGroupMaxSizeReached, req.member_id);
    else
      add_member(*g, req.member_id, req, now_ms, std::move(done), out);
    return;
  }
  if (int16_t code = g->validate_member(req.member_id, req.group_instance_id); code != err::kNone) {
    out.join_error(std::move(done), code, req.member_id);
    return;
  }
  Member& m = *g->member(req.member_id);  // validate_member found it
  bool unchanged = m.same_protocols(req);
  m.update_from(req, now_ms);
  switch (g->state) {
    case GroupState::kPreparingRebalance:
      if (m.join_cb) out.join_error(std::move(m.join_cb), err::kRebalanceInProgress, m.id);  // superseded
      m.join_cb = std::move(done);
      maybe_complete_join(*g, now_ms, out, false);
      break;
    case GroupState::kCompletingRebalance:
      if (unchanged) {
        out.joins.emplace_back(std::move(done), g->join_result_for(m));
      } else {
        m.join_cb = std::move(done);
        prepare_rebalance(*g, now_ms, out);
      }
      break;
    case GroupState::kStable:
      // The leader's JoinGroup always rebalances (it may have seen metadata change).
      if (unchanged && m.id != g->leader) {
        out.joins.emplace_back(std::move(done), g->join_result_for(m));
      } else {
        m.join_cb = std::move(done);
        prepare_rebalance(*g, now_ms, out);
      }
      break;
    case GroupState::kEmpty:
    case GroupState::kDead:
      out.join_error(std::move(done), err::kUnknownMemberId, req.member_id);
      break;
  }
}

void GroupCoordinator::add_member(Group& g, const std::string& member_id, const JoinRequest& req, int64_t now_ms,
                                  JoinCallback done, Deferred& out) {
  auto m = std::make_unique<Member>();
  m->id = member_id;
  m->instance_id = req.group_instance_id;
  m->join_seq = ++member_seq_;
  m->update_from(req, now_ms);
  m->join_cb = std::move(done);
  if (req.group_instance_id) g.static_members[*req.group_instance_id] = member_id;
  if (g.members.empty()) g.protocol_type = req.protocol_type;
  g.members[member_id] = std::move(m);
  if (g.state == GroupState::kPreparingRebalance)
    maybe_complete_join(g, now_ms, out, false);
  else
    prepare_rebalance(g, now_ms, out);
}

// Kafka's updateStaticMemberAndRebalance (KIP-345): a static member joining
// without a member id takes over its instance's member under a new id. The
// old id is fenced: its waiting JoinGroup/SyncGroup are answered
// FENCED_INSTANCE_ID now, and every later request naming it with the
// instance id gets FENCED_INSTANCE_ID from validate_member.
void GroupCoordinator::replace_static_member(Group& g, const std::string& old_id, const JoinRequest& req,
                                             int64_t now_ms, JoinCallback done, Deferred& out) {
  const std::string& instance = *req.group_instance_id;
  auto node = g.members.extract(old_id);
  if (node.empty()) {
    // static_members named no member: never so when the invariants hold
    // (check_invariants); repair the map and join as a new member.
    g.static_members.erase(instance);
    add_member(g, new_member_id(req.client_id, req.group_instance_id), req, now_ms, std::move(done), out);
    return;
  }
  Member& m = *node.mapped();
  if (m.join_cb) out.join_error(std::move(m.join_cb), err::kFencedInstanceId, old_id);
  if (m.sync_cb) out.sync_error(std::move(m.sync_cb), err::kFencedInstanceId);
  m.join_cb = nullptr;
  m.sync_cb = nullptr;
  Member before = m;
  bool unchanged = m.same_protocols(req);
  std::string new_id = new_member_id(req.client_id, req.group_instance_id);
  m.id = new_id;
  m.update_from(req, now_ms);
  node.key() = new_id;
  Member& moved = *g.members.insert(std::move(node)).position->second;
  g.static_members[instance] = new_id;
  bool was_leader = g.leader == old_id;
  if (was_leader) g.leader = new_id;

  switch (g.state) {
    case GroupState::kStable:
      if (unchanged) {
        // The joiner is answered once the stored group names the new member id.
        persist_group(
            g, now_ms,
            [this, gid = g.id, generation = g.generation, instance, old_id, new_id, was_leader,
             before = std::make_shared<Member>(std::move(before)), done](Persisted p, Deferred& later) mutable {
              Group* grp = find(gid);
              Member* m = grp && p != Persisted::kMoved ? grp->member(new_id) : nullptr;
              if (p == Persisted::kStored && m) {
                later.joins.emplace_back(std::move(done), grp->join_result_for(*m));
                return;
              }
              // As Kafka: the replacement is undone (if nothing moved on
              // meanwhile) and the joiner told to retry.
              if (p == Persisted::kFailed && m && grp->state == GroupState::kStable && grp->generation == generation) {
                auto back = grp->members.extract(new_id);
                *back.mapped() = std::move(*before);
                back.key() = old_id;
                grp->members.insert(std::move(back));
                grp->static_members[instance] = old_id;
                if (was_leader) grp->leader = old_id;
              }
              later.join_error(std::move(done),
                               p == Persisted::kMoved ? err::kNotCoordinator : err::kCoordinatorNotAvailable, {});
            },
            out);
        return;
      }
      moved.join_cb = std::move(done);
      prepare_rebalance(g, now_ms, out);
      return;
    case GroupState::kCompletingRebalance:
      // The leader may be assigning to the old id: rebalance so the new id gets an assignment.
      moved.join_cb = std::move(done);
      prepare_rebalance(g, now_ms, out);
      return;
    case GroupState::kPreparingRebalance:
      moved.join_cb = std::move(done);
      maybe_complete_join(g, now_ms, out, false);
      return;
    case GroupState::kEmpty:
    case GroupState::kDead:
      // A group with members is neither; answer as for an unknown member.
      moved.join_cb = std::move(done);
      prepare_rebalance(g, now_ms, out);
      return;
  }
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
  g.sync_write_pending = false;  // a generation being stored is superseded
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
    g.empty_since_ms = now_ms;
    g.protocol.clear();
    g.leader.clear();
    persist_group(g, now_ms, nullptr, out);
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
    if (int16_t e = load_error(req.group_id); e != err::kNone) {
      r.error = e;
    } else if (!g) {
      r.error = err::kUnknownMemberId;
    } else if (g->state == GroupState::kDead) {
      r.error = err::kCoordinatorNotAvailable;
    } else if (int16_t code = g->validate_member(req.member_id, req.group_instance_id); code != err::kNone) {
      r.error = code;
    } else if (req.generation_id != g->generation) {
      r.error = err::kIllegalGeneration;
    } else if (g->state == GroupState::kPreparingRebalance) {
      r.error = err::kRebalanceInProgress;
    } else if (g->state == GroupState::kStable) {
      Member& m = *g->member(req.member_id);
      r.protocol_type = g->protocol_type;
      r.protocol_name = g->protocol;
      r.assignment = m.assignment;
      m.heartbeat_deadline_ms = now_ms + m.session_timeout_ms;
    } else if (g->state == GroupState::kCompletingRebalance) {
      Member& m = *g->member(req.member_id);
      m.heartbeat_deadline_ms = now_ms + m.session_timeout_ms;
      if (m.sync_cb) {
        SyncResult superseded;
        superseded.error = err::kRebalanceInProgress;
        out.syncs.emplace_back(std::move(m.sync_cb), std::move(superseded));
      }
      m.sync_cb = std::move(done);
      if (m.id == g->leader && !g->sync_write_pending) {
        for (auto& [id, mem] : g->members) mem->assignment.clear();
        for (const auto& [id, bytes] : req.assignments) {
          auto t = g->members.find(id);
          if (t != g->members.end()) t->second->assignment = bytes;
        }
        // The generation runs (Stable, assignments handed out) once stored;
        // the members' SyncGroups wait for it, as do any that arrive meanwhile.
        g->sync_write_pending = true;
        persist_group(
            *g, now_ms,
            [this, gid = g->id, generation = g->generation, now_ms](Persisted p, Deferred& later) {
              Group* grp = find(gid);
              if (p == Persisted::kMoved || !grp || grp->generation != generation ||
                  grp->state != GroupState::kCompletingRebalance || !grp->sync_write_pending)
                return;  // superseded: a rebalance or an unload answered the members
              grp->sync_write_pending = false;
              bool stored = p == Persisted::kStored;
              if (stored) grp->state = GroupState::kStable;
              for (auto& [id, mem] : grp->members) {
                if (!mem->sync_cb) continue;
                SyncResult res;
                if (stored) {
                  res.protocol_type = grp->protocol_type;
                  res.protocol_name = grp->protocol;
                  res.assignment = mem->assignment;
                } else {
                  res.error = err::kCoordinatorNotAvailable;
                }
                later.syncs.emplace_back(std::move(mem->sync_cb), std::move(res));
                mem->sync_cb = nullptr;
              }
              // As Kafka: a generation that could not be stored is not run;
              // the members got the error and the group rebalances.
              if (!stored) prepare_rebalance(*grp, now_ms, later);
            },
            out);
      }
      done = nullptr;
    } else {
      r.error = err::kUnknownMemberId;
    }
    if (done) out.syncs.emplace_back(std::move(done), std::move(r));
  }
  persist_ready();
  out.run();
}

int16_t GroupCoordinator::heartbeat(const std::string& group_id, const std::string& member_id, int32_t generation,
                                    const std::optional<std::string>& instance_id, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (int16_t e = load_error(group_id); e != err::kNone) return e;
  Group* g = find(group_id);
  if (!g) return err::kUnknownMemberId;
  if (g->state == GroupState::kDead) return err::kCoordinatorNotAvailable;
  if (int16_t code = g->validate_member(member_id, instance_id); code != err::kNone) return code;
  if (generation != g->generation) return err::kIllegalGeneration;
  Member& m = *g->member(member_id);
  m.heartbeat_deadline_ms = now_ms + m.session_timeout_ms;
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
    int16_t load = load_error(group_id);
    Group* g = load == err::kNone ? find(group_id) : nullptr;
    result.push_back(load != err::kNone ? load : g ? err::kNone : err::kUnknownMemberId);
    for (const auto& lm : members) {
      if (!g) {
        result.push_back(load != err::kNone ? load : err::kUnknownMemberId);
        continue;
      }
      // Kafka's classic LeaveGroup: by instance id alone (admin removal), a
      // pending member id, or a member validated like any other request.
      std::string id = lm.member_id;
      if (id.empty()) {
        auto s = lm.group_instance_id ? g->static_members.find(*lm.group_instance_id) : g->static_members.end();
        if (s == g->static_members.end() || !g->members.count(s->second)) {
          result.push_back(err::kUnknownMemberId);
          continue;
        }
        id = s->second;
      } else if (g->pending_members.erase(id)) {
        maybe_complete_join(*g, now_ms, out, false);
        result.push_back(err::kNone);
        continue;
      } else if (int16_t code = g->validate_member(id, lm.group_instance_id); code != err::kNone) {
        result.push_back(code);
        continue;
      }
      remove_member(*g, id, now_ms, out);
      result.push_back(err::kNone);
    }
    if (g && members.size() == 1) result[0] = result[1];
  }
  persist_ready();
  out.run();
  return result;
}

void GroupCoordinator::tick(int64_t now_ms) {
  Deferred out;
  {
    std::lock_guard lock(mu_);
    for (auto t = ticking_.begin(); t != ticking_.end();) {
      auto found = groups_.find(*t);
      if (found == groups_.end()) {
        t = ticking_.erase(t);
        continue;
      }
      Group& g = *found->second;
      if (load_error(g.id) != err::kNone) {  // being loaded: not served yet
        ++t;
        continue;
      }
      for (auto it = g.pending_members.begin(); it != g.pending_members.end();)
        it = it->second <= now_ms ? g.pending_members.erase(it) : std::next(it);
      std::vector<std::string> expired;
      for (const auto& [id, m] : g.members)
        if (!m->join_cb && !m->sync_cb && m->heartbeat_deadline_ms <= now_ms) expired.push_back(id);
      for (const auto& id : expired) remove_member(g, id, now_ms, out);
      if (g.state == GroupState::kPreparingRebalance)
        maybe_complete_join(g, now_ms, out, now_ms >= g.rebalance_deadline_ms);
      t = idle(g) ? ticking_.erase(t) : std::next(t);
    }
    if (now_ms >= next_retention_check_ms_) {
      expire_offsets_and_groups(now_ms, out);
      next_retention_check_ms_ = now_ms + options_.offsets_retention_check_interval_ms;
    }
  }
  persist_ready();
  out.run();
}

std::string GroupCoordinator::check_invariants() const {
  std::lock_guard lock(mu_);
  for (const auto& [gid, gp] : groups_) {
    const Group& g = *gp;
    std::string where = "group '" + gid + "' (" + state_name(g.state) + "): ";
    if (g.id != gid) return where + "keyed under another id";
    if (!idle(g) && !ticking_.count(gid)) return where + "has members or a rebalance but tick() would never look at it";
    if (g.state == GroupState::kDead && g.pending_writes == 0) return where + "a Dead group is still kept";
    for (const auto& [instance, member_id] : g.static_members) {
      const Member* m = g.member(member_id);
      if (!m) return where + "instance '" + instance + "' maps to missing member '" + member_id + "'";
      if (m->instance_id != instance) return where + "instance '" + instance + "' maps to a member of another instance";
    }
    for (const auto& [id, m] : g.members) {
      if (m->id != id) return where + "member '" + id + "' keyed under another id";
      if (m->instance_id) {
        auto s = g.static_members.find(*m->instance_id);
        if (s == g.static_members.end() || s->second != id)
          return where + "static member '" + id + "' is not what its instance maps to";
      }
      if (g.pending_members.count(id)) return where + "member '" + id + "' is also pending";
      if (m->join_cb && g.state != GroupState::kPreparingRebalance) return where + "a join waits outside a rebalance";
      if (m->sync_cb && g.state != GroupState::kCompletingRebalance) return where + "a sync waits outside CompletingRebalance";
    }
    if (g.state == GroupState::kEmpty && !g.members.empty()) return where + "has members";
    if (g.state == GroupState::kStable || g.state == GroupState::kCompletingRebalance) {
      if (g.members.empty()) return where + "has no members";
      if (!g.member(g.leader)) return where + "leader '" + g.leader + "' is not a member";
      for (const auto& [id, m] : g.members)
        if (!m->metadata_for(g.protocol)) return where + "member '" + id + "' does not support '" + g.protocol + "'";
    }
  }
  return {};
}

}  // namespace millrace::coordination
