// GroupCoordinator's side of __consumer_offsets (layouts: offsets_format.h):
// the group value written when a generation completes or the group empties,
// and the replay that rebuilds groups and offsets from the topic at start.
#include "coordination/group_internal.h"
#include "coordination/offsets_format.h"
#include "coordination/offsets_partition.h"

namespace millrace::coordination {

void GroupCoordinator::persist_group(Group& g, int64_t now_ms, Continuation then, Deferred& out) {
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
  std::vector<StoredRecord> records;
  records.push_back({encode_group_key({g.id}), encode_group_value(v)});
  stage(g.id, std::move(records), std::move(then), out);
}


int32_t GroupCoordinator::partition_for(const std::string& group_id) const {
  return offsets_partition_for(group_id, options_.offsets_partitions);
}

int16_t GroupCoordinator::load_error(const std::string& group_id) const {
  switch (partitions_[static_cast<size_t>(partition_for(group_id))].load) {
    case Load::kLoaded: return err::kNone;
    case Load::kLoading: return err::kCoordinatorLoadInProgress;
    case Load::kNotHosted: return err::kNotCoordinator;
  }
  return err::kNotCoordinator;
}

int16_t GroupCoordinator::partition_error(const std::string& group_id) const {
  std::lock_guard lock(mu_);
  return load_error(group_id);
}

void GroupCoordinator::stage(const std::string& group_id, std::vector<StoredRecord> records, Continuation then,
                             Deferred& out) {
  Group* g = find(group_id);
  if (!store_) {
    if (then) then(Persisted::kStored, out);
    return;
  }
  int32_t p = partition_for(group_id);
  uint64_t id = ++next_write_id_;
  if (g) ++g->pending_writes;
  ready_.push_back({id, p, std::move(records)});
  waiting_[id] = Waiting{p, partitions_[static_cast<size_t>(p)].epoch, group_id, std::move(then)};
}

void GroupCoordinator::persist_ready() {
  if (!store_) return;
  persist_wanted_.store(true);
  // Called from inside the store's append (an inline completion): the loop
  // below, further up this thread's stack, hands the new writes over next.
  if (persist_owner_.load() == std::this_thread::get_id()) return;
  while (persist_wanted_.load()) {
    std::unique_lock hand_over(persist_mu_, std::try_to_lock);
    if (!hand_over) return;  // the thread that holds it loops while persist_wanted_
    persist_wanted_.store(false);
    std::vector<StagedWrite> batch;
    {
      std::lock_guard lock(mu_);
      batch.swap(ready_);
    }
    persist_owner_.store(std::this_thread::get_id());
    for (auto& w : batch)
      store_->append(w.partition, std::move(w.records), [this, id = w.id](bool ok) { on_persisted(id, ok); });
    persist_owner_.store(std::thread::id{});
  }
}

void GroupCoordinator::on_persisted(uint64_t id, bool ok) {
  Deferred out;
  {
    std::lock_guard lock(mu_);
    auto it = waiting_.find(id);
    if (it == waiting_.end()) return;
    Waiting w = std::move(it->second);
    waiting_.erase(it);
    const auto& slot = partitions_[static_cast<size_t>(w.partition)];
    Persisted p = slot.epoch != w.load_epoch || slot.load != Load::kLoaded ? Persisted::kMoved
                  : ok                                                     ? Persisted::kStored
                                                                           : Persisted::kFailed;
    // A moved write counted on a group that was dropped with its partition;
    // a group of the same id loaded since is another one.
    if (Group* g = find(w.group_id); g && p != Persisted::kMoved && g->pending_writes > 0) --g->pending_writes;
    if (w.then) w.then(p, out);
  }
  persist_ready();
  out.run();
}

void GroupCoordinator::drop_partition(int32_t partition, Load to) {
  Deferred out;
  {
    std::lock_guard lock(mu_);
    auto& slot = partitions_[static_cast<size_t>(partition)];
    ++slot.epoch;  // writes staged before complete as kMoved
    slot.load = to;
    for (auto it = groups_.begin(); it != groups_.end();) {
      if (partition_for(it->first) != partition) {
        ++it;
        continue;
      }
      for (auto& [mid, m] : it->second->members) {
        if (m->join_cb) out.join_error(std::move(m->join_cb), err::kNotCoordinator, mid);
        if (m->sync_cb) out.sync_error(std::move(m->sync_cb), err::kNotCoordinator);
      }
      it = groups_.erase(it);
    }
  }
  out.run();
}

void GroupCoordinator::begin_load(int32_t partition) { drop_partition(partition, Load::kLoading); }

void GroupCoordinator::finish_load(int32_t partition, int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto& slot = partitions_[static_cast<size_t>(partition)];
  if (slot.load != Load::kLoading) return;
  slot.load = Load::kLoaded;
  for (auto& [gid, g] : groups_)
    if (partition_for(gid) == partition)
      for (auto& [id, m] : g->members) m->heartbeat_deadline_ms = now_ms + m->session_timeout_ms;
}

void GroupCoordinator::unload(int32_t partition) { drop_partition(partition, Load::kNotHosted); }

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
