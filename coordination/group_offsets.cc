// GroupCoordinator's committed offsets and read-only queries (describe,
// list, metrics); membership is in group_coordinator.cc.
#include <algorithm>

#include "coordination/group_internal.h"
#include "coordination/offsets_format.h"

namespace millrace::coordination {

std::vector<int16_t> GroupCoordinator::commit_offsets(const std::string& group_id, const std::string& member_id,
                                                      int32_t generation,
                                                      const std::vector<OffsetCommitEntry>& offsets,
                                                      int64_t now_ms) {
  std::lock_guard lock(mu_);
  int16_t code = err::kNone;
  if (group_id.empty()) {
    code = err::kInvalidGroupId;
  } else {
    Group* g = find(group_id);
    if (generation < 0 && member_id.empty()) {
      if (g && !g->members.empty()) code = err::kUnknownMemberId;
    } else if (!g) {
      code = err::kUnknownMemberId;
    } else {
      auto it = g->members.find(member_id);
      if (it == g->members.end())
        code = err::kUnknownMemberId;
      else if (generation != g->generation)
        code = err::kIllegalGeneration;
      else if (g->state == GroupState::kCompletingRebalance)
        code = err::kRebalanceInProgress;
      else
        it->second->heartbeat_deadline_ms = now_ms + it->second->session_timeout_ms;
    }
  }
  if (code == err::kNone) {
    std::vector<StoredRecord> records;
    std::vector<CommittedOffset> values;
    for (const auto& e : offsets) {
      CommittedOffset v{e.offset, e.leader_epoch, e.metadata.value_or(""), now_ms};
      records.push_back({encode_offset_key({group_id, e.topic, e.partition}), encode_offset_value(v)});
      values.push_back(std::move(v));
    }
    if (store_ && !records.empty() && !store_->append(records)) {
      code = err::kCoordinatorNotAvailable;
    } else {
      Group& g = group_for(group_id);
      for (size_t i = 0; i < offsets.size(); ++i) g.offsets[offsets[i].topic][offsets[i].partition] = values[i];
    }
  }
  return std::vector<int16_t>(offsets.size(), code);
}

std::optional<CommittedOffset> GroupCoordinator::fetch_offset(const std::string& group_id, const std::string& topic,
                                                              int32_t partition) const {
  std::lock_guard lock(mu_);
  Group* g = find(group_id);
  if (!g) return std::nullopt;
  auto t = g->offsets.find(topic);
  if (t == g->offsets.end()) return std::nullopt;
  auto p = t->second.find(partition);
  if (p == t->second.end()) return std::nullopt;
  return p->second;
}

std::map<std::string, std::map<int32_t, CommittedOffset>> GroupCoordinator::fetch_all_offsets(
    const std::string& group_id) const {
  std::lock_guard lock(mu_);
  Group* g = find(group_id);
  if (!g) return {};
  return g->offsets;
}

int16_t GroupCoordinator::delete_offsets(const std::string& group_id,
                                         const std::vector<std::pair<std::string, int32_t>>& parts,
                                         std::vector<int16_t>& per_partition) {
  std::lock_guard lock(mu_);
  per_partition.assign(parts.size(), err::kNone);
  Group* g = find(group_id);
  if (!g) return err::kGroupIdNotFound;
  if (!g->members.empty()) {
    // Members may be consuming these partitions; Kafka refuses for subscribed topics.
    per_partition.assign(parts.size(), err::kGroupSubscribedToTopic);
    return err::kNone;
  }
  std::vector<StoredRecord> tombstones;
  for (const auto& [topic, partition] : parts)
    tombstones.push_back({encode_offset_key({group_id, topic, partition}), std::nullopt});
  if (store_ && !tombstones.empty() && !store_->append(tombstones)) return err::kCoordinatorNotAvailable;
  for (const auto& [topic, partition] : parts) {
    auto t = g->offsets.find(topic);
    if (t == g->offsets.end()) continue;
    t->second.erase(partition);
    if (t->second.empty()) g->offsets.erase(t);
  }
  return err::kNone;
}

GroupDescription GroupCoordinator::describe(const std::string& group_id) const {
  std::lock_guard lock(mu_);
  GroupDescription d;
  d.group_id = group_id;
  Group* g = find(group_id);
  if (!g) {
    d.state = state_name(GroupState::kDead);
    return d;
  }
  d.state = state_name(g->state);
  d.protocol_type = g->protocol_type;
  d.protocol = g->state == GroupState::kStable ? g->protocol : "";
  for (const auto& [id, m] : g->members) {
    MemberDescription md;
    md.member_id = id;
    md.group_instance_id = m->instance_id;
    md.client_id = m->client_id;
    md.client_host = m->client_host;
    if (auto* meta = m->metadata_for(g->protocol)) md.metadata = *meta;
    md.assignment = m->assignment;
    d.members.push_back(std::move(md));
  }
  return d;
}

std::vector<GroupListing> GroupCoordinator::list(const std::vector<std::string>& states_filter) const {
  std::lock_guard lock(mu_);
  std::vector<GroupListing> out;
  for (const auto& [id, g] : groups_) {
    if (g->state == GroupState::kDead) continue;
    std::string state = state_name(g->state);
    if (!states_filter.empty() &&
        std::find(states_filter.begin(), states_filter.end(), state) == states_filter.end())
      continue;
    out.push_back({id, g->protocol_type, state});
  }
  return out;
}

int16_t GroupCoordinator::delete_group(const std::string& group_id) {
  std::lock_guard lock(mu_);
  Group* g = find(group_id);
  if (!g) return err::kGroupIdNotFound;
  if (!g->members.empty() || g->state != GroupState::kEmpty) return err::kNonEmptyGroup;
  std::vector<StoredRecord> tombstones;
  for (const auto& [topic, parts] : g->offsets)
    for (const auto& [p, v] : parts) tombstones.push_back({encode_offset_key({group_id, topic, p}), std::nullopt});
  tombstones.push_back({encode_group_key({group_id}), std::nullopt});
  if (store_ && !store_->append(tombstones)) return err::kCoordinatorNotAvailable;
  groups_.erase(group_id);
  return err::kNone;
}

std::map<std::string, int> GroupCoordinator::member_counts() const {
  std::lock_guard lock(mu_);
  std::map<std::string, int> out;
  for (const auto& [id, g] : groups_) out[id] = static_cast<int>(g->members.size());
  return out;
}

std::map<std::string, std::map<std::pair<std::string, int32_t>, int64_t>> GroupCoordinator::all_offsets() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::map<std::pair<std::string, int32_t>, int64_t>> out;
  for (const auto& [id, g] : groups_)
    for (const auto& [topic, parts] : g->offsets)
      for (const auto& [p, v] : parts) out[id][{topic, p}] = v.offset;
  return out;
}

}  // namespace millrace::coordination
