// GroupCoordinator's committed offsets and read-only queries (describe,
// list, metrics); membership is in group_coordinator.cc.
#include <algorithm>
#include <set>

#include "coordination/group_internal.h"
#include "coordination/offsets_format.h"
#include "protocol/wire/reader.h"

namespace millrace::coordination {

void GroupCoordinator::commit_offsets(const std::string& group_id, const std::string& member_id, int32_t generation,
                                      const std::optional<std::string>& instance_id,
                                      const std::vector<OffsetCommitEntry>& offsets, int64_t now_ms,
                                      CommitCallback done) {
  Deferred out;
  {
    std::lock_guard lock(mu_);
    commit_locked(group_id, member_id, generation, instance_id, offsets, now_ms, std::move(done), out);
  }
  persist_ready();
  out.run();
}

void GroupCoordinator::commit_locked(const std::string& group_id, const std::string& member_id, int32_t generation,
                                     const std::optional<std::string>& instance_id,
                                     const std::vector<OffsetCommitEntry>& offsets, int64_t now_ms,
                                     CommitCallback done, Deferred& out) {
  // Kafka's ClassicGroup.validateOffsetCommit.
  int16_t code = err::kNone;
  Group* g = find(group_id);
  if (group_id.empty()) {
    code = err::kInvalidGroupId;
  } else if (int16_t e = load_error(group_id); e != err::kNone) {
    code = e;
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
  auto answer = [](Deferred& d, CommitCallback cb, std::vector<int16_t> r) {
    d.later.push_back([cb = std::move(cb), r = std::move(r)]() mutable { cb(std::move(r)); });
  };
  if (code != err::kNone) return answer(out, std::move(done), std::move(result));
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
  if (records.empty()) return answer(out, std::move(done), std::move(result));  // nothing stored: no group created
  // As Kafka, the commit creates a group it names (a "simple" group); its
  // offsets become visible, and the client is answered, once stored.
  Group& grp = group_for(group_id);
  if (!g) grp.empty_since_ms = now_ms;
  std::vector<std::pair<std::pair<std::string, int32_t>, CommittedOffset>> values;
  for (size_t i : stored) {
    const auto& e = offsets[i];
    values.push_back({{e.topic, e.partition}, {e.offset, e.leader_epoch, e.metadata.value_or(""), now_ms}});
    ++grp.pending_offsets[{e.topic, e.partition}];
  }
  stage(group_id, std::move(records),
        [this, group_id, values = std::move(values), stored = std::move(stored), result = std::move(result),
         done = std::move(done), answer](Persisted p, Deferred& later) mutable {
          Group* g = find(group_id);
          for (const auto& [key, v] : values) {
            if (!g) break;
            auto it = g->pending_offsets.find(key);
            if (it != g->pending_offsets.end() && --it->second == 0) g->pending_offsets.erase(it);
            if (p == Persisted::kStored) g->offsets[key.first][key.second] = v;
          }
          if (p != Persisted::kStored)
            for (size_t i : stored) result[i] = p == Persisted::kMoved ? err::kNotCoordinator : err::kCoordinatorNotAvailable;
          answer(later, std::move(done), std::move(result));
        },
        out);
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
void GroupCoordinator::expire_offsets_and_groups(int64_t now_ms, Deferred& out) {
  const int64_t retention = options_.offsets_retention_ms;
  // Over a copy of the ids: applying a removal erases from groups_.
  std::vector<std::string> ids;
  for (const auto& [gid, gp] : groups_) ids.push_back(gid);
  for (const auto& gid : ids) {
    Group& g = *groups_.at(gid);
    // Not served yet, being deleted, or with writes in flight (whose effect
    // is not in memory yet): looked at again next pass.
    if (load_error(gid) != err::kNone || g.state == GroupState::kDead || g.pending_writes > 0) continue;
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
        if (g.pending_offsets.count({topic, p})) continue;  // a commit in flight renews it
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
    // Applied once stored (a refused write is retried next pass). Writes
    // apply in log order, so nothing staged after the tombstones has
    // changed these keys by then; a group that gained members or offsets
    // meanwhile is kept.
    auto apply = [this, gid, expired, remove_group](Persisted p, Deferred&) {
      Group* grp = find(gid);
      if (p != Persisted::kStored || !grp) return;
      for (const auto& [topic, part] : expired) {
        auto t = grp->offsets.find(topic);
        if (t == grp->offsets.end()) continue;
        t->second.erase(part);
        if (t->second.empty()) grp->offsets.erase(t);
      }
      if (remove_group && grp->state == GroupState::kEmpty && grp->members.empty() && grp->offsets.empty() &&
          grp->pending_members.empty() && grp->pending_writes == 0)
        groups_.erase(gid);
    };
    if (tombstones.empty())
      apply(Persisted::kStored, out);
    else
      stage(gid, std::move(tombstones), std::move(apply), out);
  }
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

void GroupCoordinator::delete_offsets(const std::string& group_id,
                                      const std::vector<std::pair<std::string, int32_t>>& parts,
                                      DeleteOffsetsCallback done) {
  Deferred out;
  {
    std::lock_guard lock(mu_);
    auto answer = [](Deferred& d, DeleteOffsetsCallback cb, int16_t code, std::vector<int16_t> per) {
      d.later.push_back([cb = std::move(cb), code, per = std::move(per)]() mutable { cb(code, std::move(per)); });
    };
    Group* g = find(group_id);
    if (int16_t e = load_error(group_id); e != err::kNone) {
      answer(out, std::move(done), e, std::vector<int16_t>(parts.size(), err::kNone));
    } else if (!g || g->state == GroupState::kDead) {
      answer(out, std::move(done), err::kGroupIdNotFound, std::vector<int16_t>(parts.size(), err::kNone));
    } else if (!g->members.empty()) {
      // Members may be consuming these partitions; Kafka refuses for subscribed topics.
      answer(out, std::move(done), err::kNone, std::vector<int16_t>(parts.size(), err::kGroupSubscribedToTopic));
    } else if (parts.empty()) {
      answer(out, std::move(done), err::kNone, {});
    } else {
      std::vector<StoredRecord> tombstones;
      for (const auto& [topic, partition] : parts)
        tombstones.push_back({encode_offset_key({group_id, topic, partition}), std::nullopt});
      stage(group_id, std::move(tombstones),
            [this, group_id, parts, done = std::move(done), answer](Persisted p, Deferred& later) mutable {
              Group* grp = find(group_id);
              if (p == Persisted::kStored && grp)
                for (const auto& [topic, partition] : parts) {
                  auto t = grp->offsets.find(topic);
                  if (t == grp->offsets.end()) continue;
                  t->second.erase(partition);
                  if (t->second.empty()) grp->offsets.erase(t);
                }
              int16_t code = p == Persisted::kStored ? err::kNone
                             : p == Persisted::kMoved ? err::kNotCoordinator
                                                      : err::kCoordinatorNotAvailable;
              answer(later, std::move(done), code, std::vector<int16_t>(parts.size(), err::kNone));
            },
            out);
    }
  }
  persist_ready();
  out.run();
}

GroupDescription GroupCoordinator::describe(const std::string& group_id) const {
  std::lock_guard lock(mu_);
  GroupDescription d;
  d.group_id = group_id;
  if (int16_t e = load_error(group_id); e != err::kNone) {
    d.error = e;
    d.state = state_name(GroupState::kDead);
    return d;
  }
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
    if (g->state == GroupState::kDead || load_error(id) != err::kNone) continue;
    std::string state = state_name(g->state);
    if (!states_filter.empty() &&
        std::find(states_filter.begin(), states_filter.end(), state) == states_filter.end())
      continue;
    out.push_back({id, g->protocol_type, state});
  }
  return out;
}

void GroupCoordinator::delete_group(const std::string& group_id, DeleteGroupCallback done) {
  Deferred out;
  {
    std::lock_guard lock(mu_);
    auto answer = [](Deferred& d, DeleteGroupCallback cb, int16_t code) {
      d.later.push_back([cb = std::move(cb), code] { cb(code); });
    };
    Group* g = find(group_id);
    if (int16_t e = load_error(group_id); e != err::kNone) {
      answer(out, std::move(done), e);
    } else if (!g || g->state == GroupState::kDead) {
      answer(out, std::move(done), err::kGroupIdNotFound);
    } else if (!g->members.empty() || g->state != GroupState::kEmpty) {
      answer(out, std::move(done), err::kNonEmptyGroup);
    } else if (g->pending_writes > 0) {
      // A commit in flight would land after the tombstones: retriable.
      answer(out, std::move(done), err::kCoordinatorNotAvailable);
    } else {
      std::vector<StoredRecord> tombstones;
      for (const auto& [topic, parts] : g->offsets)
        for (const auto& [p, v] : parts) tombstones.push_back({encode_offset_key({group_id, topic, p}), std::nullopt});
      tombstones.push_back({encode_group_key({group_id}), std::nullopt});
      // Dead meanwhile, as Kafka: requests naming it are refused, it is not listed.
      g->state = GroupState::kDead;
      stage(group_id, std::move(tombstones),
            [this, group_id, done = std::move(done), answer](Persisted p, Deferred& later) mutable {
              Group* grp = find(group_id);
              if (p == Persisted::kStored) {
                if (grp) groups_.erase(group_id);
              } else if (grp && grp->state == GroupState::kDead) {
                grp->state = GroupState::kEmpty;  // not deleted after all
              }
              answer(later, std::move(done),
                     p == Persisted::kStored  ? err::kNone
                     : p == Persisted::kMoved ? err::kNotCoordinator
                                              : err::kCoordinatorNotAvailable);
            },
            out);
    }
  }
  persist_ready();
  out.run();
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
