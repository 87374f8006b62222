#include "operator/rolling/roll.h"

#include <algorithm>

namespace millrace::op::rolling {

namespace {

const RollMember* find(const std::vector<RollMember>& members, int32_t id) {
  for (const auto& m : members)
    if (m.id == id) return &m;
  return nullptr;
}

std::string ids(const std::vector<int32_t>& v) {
  std::string s;
  for (auto id : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(id);
  }
  return s;
}

}  // namespace

RollStep next_roll_step(const std::vector<RollMember>& members, int32_t restarted,
                        const std::vector<PartitionState>& partitions, const QuorumState& quorum) {
  RollStep step;
  std::vector<int32_t> outdated;
  for (const auto& m : members)
    if (m.outdated && m.id != restarted) outdated.push_back(m.id);
  step.pending = restart_order(outdated, quorum);
  std::string left;
  if (!step.pending.empty()) left = "; to restart: " + ids(step.pending);

  if (restarted >= 0) {
    const RollMember* r = find(members, restarted);
    if (r && (!r->ready || r->outdated)) {
      step.action = RollAction::kWait;
      step.reason = "WaitingForBroker";
      step.message = "broker " + std::to_string(restarted) + " (pod " + r->pod + ") is restarting" + left;
      return step;
    }
    if (r) {
      auto back = caught_up(restarted, partitions, quorum);
      if (!back.allowed) {
        step.action = RollAction::kWait;
        step.reason = "WaitingForBroker";
        step.message = "broker " + std::to_string(restarted) + " is back but not caught up: ";
        for (size_t i = 0; i < back.reasons.size(); ++i) {
          if (i) step.message += "; ";
          step.message += back.reasons[i];
        }
        if (back.blocked_partitions > static_cast<int>(back.reasons.size()))
          step.message += " (" + std::to_string(back.blocked_partitions) + " partitions in all)";
        step.message += left;
        return step;
      }
    }
    // Back (or gone from the cluster: a scale-down removed it): settle first,
    // so the next pass starts from a status that no longer names it.
    step.action = RollAction::kSettled;
    step.broker = restarted;
    step.reason = "Restarting";
    step.message = "broker " + std::to_string(restarted) + " is back" + left;
    return step;
  }
  if (step.pending.empty()) return step;  // kIdle

  step.action = RollAction::kWait;
  for (const auto& m : members)
    if (!m.ready) {
      step.reason = "WaitingForBroker";
      step.message = "broker " + std::to_string(m.id) + " (pod " + m.pod + ") is not Ready" + left;
      return step;
    }
  const int32_t next = step.pending.front();
  auto gate = may_restart(next, true, partitions, quorum);
  if (!gate.allowed) {
    step.reason = "Blocked";
    step.message = gate.message(next) + left;
    return step;
  }
  step.action = RollAction::kRestart;
  step.broker = next;
  step.pending.erase(step.pending.begin());
  step.reason = "Restarting";
  step.message = "restarting broker " + std::to_string(next) + " (pod " + find(members, next)->pod + ")" +
                 (step.pending.empty() ? "" : "; then: " + ids(step.pending));
  return step;
}

}  // namespace millrace::op::rolling
