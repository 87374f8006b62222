// GroupCoordinator's side of __consumer_offsets (layouts: offsets_format.h):
// the group value written when a generation completes or the group empties,
// and the replay that rebuilds groups and offsets from the topic at start.
#include "coordination/group_internal.h"
#include "coordination/offsets_format.h"

namespace millrace::coordination {

bool GroupCoordinator::persist_group(Group& g, int64_t now_ms) {
  if (!store_) return true;
  GroupValue v;
  v.protocol_type = g.protocol_type;
  v.generation = g.generation;
  if (!g.protocol.empty()) v.protocol = g.protocol;
  if (!g.leader.empty()) v.leader = g.leader;
  v.state_timestamp_ms = now_ms;
  for (const auto& [id, m] : g.members) {
    GroupMemberValue mv;
    mv.member_id = id;
    mv.group_instance_id = m->instance_id;
    mv.client_id = m->client_id;
    mv.client_host = m->client_host;
    mv.rebalance_timeout_ms = m->rebalance_timeout_ms;
    mv.session_timeout_ms = m->session_timeout_ms;
    if (const auto* md = m->metadata_for(g.protocol)) mv.subscription = *md;
    mv.assignment = m->assignment;
    v.members.push_back(std::move(mv));
  }
  return store_->append(g.id, {StoredRecord{encode_group_key({g.id}), encode_group_value(v)}});
}

void GroupCoordinator::replay(std::span<const uint8_t> key, const std::optional<std::span<const uint8_t>>& value) {
  std::lock_guard lock(mu_);
  auto k = decode_key(key);
  if (auto* ok = std::get_if<OffsetKey>(&k)) {
    if (!value) {
      if (auto* g = find(ok->group)) {
        auto t = g->offsets.find(ok->topic);
        if (t != g->offsets.end()) {
          t->second.erase(ok->partition);
          if (t->second.empty()) g->offsets.erase(t);
        }
        // A group known only by its offsets goes with the last of them.
        if (g->offsets.empty() && g->members.empty() && g->generation == 0 && g->protocol_type.empty())
          groups_.erase(ok->group);
      }
      return;
    }
    if (auto v = decode_offset_value(*value)) group_for(ok->group).offsets[ok->topic][ok->partition] = *v;
  } else if (auto* gk = std::get_if<GroupKey>(&k)) {
    if (!value) {
      groups_.erase(gk->group);
      return;
    }
    auto v = decode_group_value(*value);
    if (!v) return;
    // The latest value replaces the group's membership; offsets are kept.
    auto& g = group_for(gk->group);
    g.generation = v->generation;
    g.protocol_type = v->protocol_type;
    g.protocol = v->protocol.value_or("");
    g.leader = v->leader.value_or("");
    g.members.clear();
    g.static_members.clear();
    g.pending_members.clear();
    g.in_initial_delay = false;
    for (auto& mv : v->members) {
      // A record naming a member or an instance twice keeps the first, so
      // static_members and members stay one-to-one.
      if (g.members.count(mv.member_id) || (mv.group_instance_id && g.static_members.count(*mv.group_instance_id)))
        continue;
      auto m = std::make_unique<Member>();
      m->id = mv.member_id;
      m->instance_id = mv.group_instance_id;
      m->client_id = std::move(mv.client_id);
      m->client_host = std::move(mv.client_host);
      m->rebalance_timeout_ms = mv.rebalance_timeout_ms;
      m->session_timeout_ms = mv.session_timeout_ms;
      m->protocols.push_back({g.protocol, std::move(mv.subscription)});
      m->assignment = std::move(mv.assignment);
      m->join_seq = ++member_seq_;  // stored order stands in for join order
      if (m->instance_id) g.static_members[*m->instance_id] = m->id;
      g.members[m->id] = std::move(m);
    }
    g.state = g.members.empty() ? GroupState::kEmpty : GroupState::kStable;
    g.empty_since_ms = g.members.empty() ? v->state_timestamp_ms : -1;
    if (!g.members.empty() && !g.members.count(g.leader)) g.leader = g.members.begin()->first;
  }
}

void GroupCoordinator::finish_replay(int64_t now_ms) {
  std::lock_guard lock(mu_);
  for (auto& [gid, g] : groups_)
    for (auto& [id, m] : g->members) m->heartbeat_deadline_ms = now_ms + m->session_timeout_ms;
}

}  // namespace millrace::coordination
