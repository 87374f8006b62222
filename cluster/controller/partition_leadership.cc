#include "cluster/controller/partition_leadership.h"

#include "cluster/controller/reassignment_control.h"

#include <algorithm>
#include <map>
#include <utility>

namespace millrace::cluster {
namespace {

namespace err {
constexpr int16_t kBrokerNotAvailable = 8;
constexpr int16_t kStaleBrokerEpoch = 77;
constexpr int16_t kBrokerIdNotRegistered = 102;
}  // namespace err

bool contains(const std::vector<int32_t>& v, int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

struct Current {
  int32_t leader, leader_epoch;
  std::vector<int32_t> isr;
};

// Why `p` writes nothing against the partition as it stands (`now`), or "".
std::string skip_reason(const PartitionState& part, const Current& now, const PartitionLeadership& p,
                        int32_t reporter) {
  if (!led_by_raft(part)) return "has one replica";
  if (p.leader != reporter) return "names leader " + std::to_string(p.leader) + ", not the reporter";
  if (!contains(part.replicas, p.leader)) return "leader " + std::to_string(p.leader) + " is not a replica";
  for (int32_t r : p.isr)
    if (!contains(part.replicas, r)) return "in-sync replica " + std::to_string(r) + " is not a replica";
  if (p.leader_epoch < now.leader_epoch)
    return "epoch " + std::to_string(p.leader_epoch) + " is below " + std::to_string(now.leader_epoch);
  if (p.leader_epoch == now.leader_epoch && now.leader != -1 && now.leader != p.leader)
    return "epoch " + std::to_string(p.leader_epoch) + " is led by " + std::to_string(now.leader);
  if (p.leader == now.leader && p.leader_epoch == now.leader_epoch && p.isr == now.isr) return "already so";
  return "";
}

}  // namespace

ControlResult report_leadership(const MetadataState& state, const LeadershipReport& report) {
  auto b = state.brokers().find(report.broker_id);
  if (b == state.brokers().end())
    return {err::kBrokerIdNotRegistered, "broker " + std::to_string(report.broker_id) + " is not registered", {}};
  if (b->second.epoch != report.broker_epoch)
    return {err::kStaleBrokerEpoch,
            "broker " + std::to_string(report.broker_id) + " epoch " + std::to_string(report.broker_epoch) +
                " is not its registered " + std::to_string(b->second.epoch),
            {}};
  if (b->second.fenced)
    return {err::kBrokerNotAvailable, "broker " + std::to_string(report.broker_id) + " is fenced", {}};
  ControlResult out;
  std::map<std::pair<TopicId, int32_t>, Current> decided;  // what this report's records make it
  for (const auto& p : report.partitions) {
    auto t = state.topics().find(p.topic);
    const PartitionState* part = nullptr;
    if (t != state.topics().end())
      if (auto it = t->second.partitions.find(p.partition); it != t->second.partitions.end()) part = &it->second;
    std::string where = (t == state.topics().end() ? topic_id_hex(p.topic) : t->second.name) + "-" +
                        std::to_string(p.partition);
    if (!part) {
      out.message += where + ": unknown partition; ";
      continue;
    }
    auto key = std::make_pair(p.topic, p.partition);
    auto d = decided.find(key);
    Current now = d != decided.end() ? d->second : Current{part->leader, part->leader_epoch, part->isr};
    const std::string why = skip_reason(*part, now, p, report.broker_id);
    if (!why.empty()) {
      out.message += where + ": " + why + "; ";
      if (why != "already so") continue;
    } else {
      records::PartitionLeaderRecord r;
      r.topic_id.bytes = p.topic;
      r.partition_id = p.partition;
      r.leader = p.leader;
      r.leader_epoch = p.leader_epoch;
      r.isr = p.isr;
      out.records.emplace_back(std::move(r));
      decided[key] = Current{p.leader, p.leader_epoch, p.isr};
    }
    if (!p.voters.empty()) {  // the reporter leads: its voters may end a move
      auto done = complete_reassignment(state, p.topic, p.partition, p.voters, p.leader, p.isr);
      for (auto& r : done.records) out.records.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace millrace::cluster
