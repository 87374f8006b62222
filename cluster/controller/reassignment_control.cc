#include "cluster/controller/reassignment_control.h"

#include <algorithm>
#include <set>

namespace millrace::cluster {
namespace {

namespace err {
constexpr int16_t kUnknownTopicOrPartition = 3;
constexpr int16_t kInvalidReplicaAssignment = 39;
constexpr int16_t kNoReassignmentInProgress = 85;
}  // namespace err

bool has(const std::vector<int32_t>& v, int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::vector<int32_t> minus(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  std::vector<int32_t> out;
  for (int32_t x : a)
    if (!has(b, x)) out.push_back(x);
  return out;
}

records::PartitionChangeRecord change(const TopicId& id, int32_t partition) {
  records::PartitionChangeRecord r;
  r.topic_id.bytes = id;
  r.partition_id = partition;
  return r;
}

}  // namespace

std::vector<int32_t> original_replicas(const PartitionState& p) { return minus(p.replicas, p.adding); }
std::vector<int32_t> target_replicas(const PartitionState& p) { return minus(p.replicas, p.removing); }
bool reassigning(const PartitionState& p) { return !p.adding.empty() || !p.removing.empty(); }

ControlResult alter_partition_reassignment(const MetadataState& state, std::string_view topic, int32_t partition,
                                           const std::optional<std::vector<int32_t>>& target) {
  const TopicState* t = state.topic(topic);
  const PartitionState* p = nullptr;
  if (t)
    if (auto it = t->partitions.find(partition); it != t->partitions.end()) p = &it->second;
  if (!p) return {err::kUnknownTopicOrPartition, "This server does not host this topic-partition.", {}};
  const std::vector<int32_t> original = original_replicas(*p);
  records::PartitionChangeRecord r = change(t->id, partition);
  if (!target) {
    if (!reassigning(*p)) return {err::kNoReassignmentInProgress, "No reassignment in progress.", {}};
    r.replicas = original;
    r.adding_replicas = std::vector<int32_t>{};
    r.removing_replicas = std::vector<int32_t>{};
    std::vector<int32_t> isr;
    for (int32_t b : p->isr)
      if (has(original, b)) isr.push_back(b);
    if (isr != p->isr) r.isr = isr;
    return {0, "", {r}};
  }
  if (target->empty())
    return {err::kInvalidReplicaAssignment, "The manual partition assignment includes a partition with no replicas.", {}};
  if (std::set<int32_t>(target->begin(), target->end()).size() != target->size())
    return {err::kInvalidReplicaAssignment, "The manual partition assignment includes duplicate replicas.", {}};
  for (int32_t b : *target)
    if (!state.brokers().count(b))
      return {err::kInvalidReplicaAssignment, "The manual partition assignment includes broker " + std::to_string(b) +
                                                  ", but no such broker is registered.",
              {}};
  // One replica is the single-node path (no Raft group); more is a Raft group:
  // a move between the two would need one made from the other.
  if ((original.size() == 1) != (target->size() == 1))
    return {err::kInvalidReplicaAssignment,
            "A reassignment cannot change a partition between one replica and several (" +
                std::to_string(original.size()) + " now, " + std::to_string(target->size()) + " asked).",
            {}};
  const std::vector<int32_t> adding = minus(*target, original), removing = minus(original, *target);
  std::vector<int32_t> replicas = *target;
  for (int32_t b : removing) replicas.push_back(b);
  if (replicas == p->replicas && adding == p->adding && removing == p->removing) return {};  // already so
  r.replicas = replicas;
  r.adding_replicas = adding;
  r.removing_replicas = removing;
  return {0, "", {r}};
}

ControlResult complete_reassignment(const MetadataState& state, const TopicId& topic, int32_t partition,
                                    const std::vector<int32_t>& voters, int32_t leader,
                                    const std::vector<int32_t>& current_isr) {
  auto t = state.topics().find(topic);
  if (t == state.topics().end()) return {};
  auto it = t->second.partitions.find(partition);
  if (it == t->second.partitions.end() || !reassigning(it->second)) return {};
  const PartitionState& p = it->second;
  const std::vector<int32_t> target = target_replicas(p);
  if (std::set<int32_t>(voters.begin(), voters.end()) != std::set<int32_t>(target.begin(), target.end())) return {};
  // A leader that left steps down once the new voters are committed; the group's
  // next leader, one of the target's, reports its leadership and then this again.
  if (leader != -1 && !has(target, leader)) return {};
  records::PartitionChangeRecord r = change(topic, partition);
  r.replicas = target;
  r.adding_replicas = std::vector<int32_t>{};
  r.removing_replicas = std::vector<int32_t>{};
  std::vector<int32_t> isr;
  for (int32_t b : current_isr)
    if (has(target, b)) isr.push_back(b);
  if (isr != current_isr) r.isr = isr;
  return {0, "", {r}};
}

}  // namespace millrace::cluster
