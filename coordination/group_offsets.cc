// GroupCoordinator's committed offsets and read-only queries (describe,
// list, metrics); membership is in group_coordinator.cc.
#include <algorithm>
#include <set>

#include "coordination/group_internal.h"
#include "coordination/offsets_format.h"
#include "protocol/wire/reader.h"

namespace millrace::coordination {

std::vector<int16_t> GroupCoordinator::commit_offsets(const std::string& group_id, const std::string& member_id,
                                                      int32_t generation,
                                                      const std::optional<std::string>& instance_id,
                                                      const std::vector<OffsetCommitEntry>& offsets,
                                                      int64_t now_ms) {
  std::lock_guard lock(mu_);
  // Kafka's ClassicGroup.validateOffsetCommit.
  int16_t code = err::kNone;
  Group* g = find(group_id);
  if (group_id.empty()) {
    code = err::kInvalidGroupId;
  } else if (!g) {
    // Generation -1: a commit from outside group management creates a
    // "simple" group; otherwise it is from a generation that is gone.
    if (generation >= 0) code = err::kIllegalGeneration;
  } else if (g->state == GroupState::kDead) {
    code = err::kCoordinatorNotAvailable;
  } else if (generation < 0 && g->state == GroupState::kEmpty) {
    // allowed: the group has no members
  } else if (generation >= 0 || !member_id.empty() || instance_id) {
    code = g->validate_member(member_id, instance_id);
    if (code == err::kNone && generation != g->generation) code = err::kIllegalGeneration;
  } else {
    code = err::kUnknownMemberId;  // no member id while the group has members
  }
  if (code == err::kNone && g && g->state == GroupState::kCompletingRebalance) code = err::kRebalanceInProgress;
  if (code == err::kNone && g)
    if (Member* m = g->member(member_id)) m->heartbeat_deadline_ms = now_ms + m->session_timeout_ms;
  std::vector<int16_t> result(offsets.size(), code);
  if (code != err::kNone) return result;
  // Kafka checks each partition's metadata size; the others are committed.
  std::vector<StoredRecord> records;
  std::vector<size_t> stored;  // indexes into offsets
  for (size_t i = 0; i < offsets.size(); ++i) {
    const auto& e = offsets[i];
    if (e.metadata && e.metadata->size() > static_cast<size_t>(std::max(0, options_.offset_metadata_max_bytes))) {
      result[i] = err::kOffsetMetadataTooLarge;
      continue;
    }
    CommittedOffset v{e.offset, e.leader_epoch, e.metadata.value_or(""), now_ms};
    records.push_back({encode_offset_key({group_id, e.topic, e.partition}), encode_offset_value(v)});
    stored.push_back(i);
  }
  if (records.empty()) return result;  // nothing to store: no group is created either
  if (store_ && !store_->append(group_id, records)) {
    for (size_t i : stored) result[i] = err::kCoordinatorNotAvailable;
    return result;
  }
  Group& grp = group_for(group_id);
  for (size_t i : stored) {
    const auto& e = offsets[i];
    grp.offsets[e.topic][e.partition] = CommittedOffset{e.offset, e.leader_epoch, e.metadata.value_or(""), now_ms};
  }
  return result;
}

namespace {
// The topics of a ConsumerProtocolSubscription (every version starts with
// int16 version, then an array of int16-length strings); nullopt when the
// bytes are not one.
std::optional<std::set<std::string>> subscribed_topics(const std::vector<uint8_t>& metadata) {
  wire::Reader r(metadata);
  if (r.int16() < 0) return std::nullopt;
  int32_t n = r.int32();
  if (!r.ok() || n < 0 || static_cast<size_t>(n) > r.remaining() / 2) return std::nullopt;
  std::set<std::string> topics;
  for (int32_t i = 0; i < n; ++i) {
    int16_t len = r.int16();
    if (len < 0) return std::nullopt;
    topics.emplace(r.string(static_cast<size_t>(len)));
  }
  if (!r.ok()) return std::nullopt;
  return topics;
}
}  // namespace

// Kafka's GroupMetadata.removeExpiredOffsets and cleanupGroupMetadata.
void GroupCoordinator::expire_offsets_and_groups(int64_t now_ms) {
  const int64_t retention = options_.offsets_retention_ms;
  std::vector<std::string> removed;
  for (auto& [gid, gp] : groups_) {
    Group& g = *gp;
    // Which offsets may expire, and from when their retention counts.
    std::optional<std::set<std::string>> keep_topics;  // Stable consumer group: its subscriptions
    bool by_empty_time = false;
    if (g.state == GroupState::kEmpty) {
      by_empty_time = !g.protocol_type.empty() && g.empty_since_ms >= 0;
    } else if (g.state == GroupState::kStable && g.protocol_type == "consumer") {
      std::set<std::string> all;
      bool known = true;
      for (const auto& [id, m] : g.members) {
        const auto* md = m->metadata_for(g.protocol);
        auto topics = md ? subscribed_topics(*md) : std::nullopt;
        known = known && topics.has_value();
        if (!known) break;
        all.insert(topics->begin(), topics->end());
      }
      if (!known) continue;  // subscriptions unknown: nothing expires
      keep_topics = std::move(all);
    } else {
      continue;  // rebalancing: nothing expires
    }
    std::vector<std::pair<std::string, int32_t>> expired;
    for (const auto& [topic, parts] : g.offsets) {
      if (keep_topics && keep_topics->count(topic)) continue;
      for (const auto& [p, v] : parts) {
        int64_t base = by_empty_time ? g.empty_since_ms : v.commit_timestamp_ms;
        if (now_ms - base >= retention) expired.emplace_back(topic, p);
      }
    }
    size_t total = 0;
    for (const auto& [topic, parts] : g.offsets) total += parts.size();
    bool remove_group = g.state == GroupState::kEmpty && g.pending_members.empty() && expired.size() == total;
    if (expired.empty() && !remove_group) continue;
    std::vector<StoredRecord> tombstones;
    for (const auto& [topic, p] : expired)
      tombstones.push_back({encode_offset_key({gid, topic, p}), std::nullopt});
    // A group that was ever stored gets a tombstone too (generation 0: it never had one).
    if (remove_group && g.generation > 0) tombstones.push_back({encode_group_key({gid}), std::nullopt});
    if (store_ && !tombstones.empty() && !store_->append(gid, tombstones)) continue;  // retried next pass
    for (const auto& [topic, p] : expired) {
      auto t = g.offsets.find(topic);
      t->second.erase(p);
      if (t->second.empty()) g.offsets.erase(t);
    }
    if (remove_group) removed.push_back(gid);
  }
  for (const auto& gid : removed) groups_.erase(gid);
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
  if (store_ && !tombstones.empty() && !store_->append(group_id, tombstones)) return err::kCoordinatorNotAvailable;
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
  if (store_ && !store_->append(group_id, tombstones)) return err::kCoordinatorNotAvailable;
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
