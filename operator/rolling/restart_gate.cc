#include "operator/rolling/restart_gate.h"

#include <algorithm>

namespace millrace::op::rolling {

namespace {

constexpr size_t kReasons = 5;

bool has(const std::vector<int32_t>& v, int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::string list(const std::vector<int32_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(v[i]);
  }
  return s + "]";
}

int majority(size_t n) { return static_cast<int>(n / 2 + 1); }

void block(Verdict& v, std::string why) {
  v.allowed = false;
  if (v.reasons.size() < kReasons) v.reasons.push_back(std::move(why));
}

std::string name(const PartitionState& p) { return p.topic + "-" + std::to_string(p.partition); }

}  // namespace

std::string Verdict::message(int32_t broker) const {
  if (allowed) return "";
  std::string s = "restart of broker " + std::to_string(broker) + " waits: ";
  for (size_t i = 0; i < reasons.size(); ++i) {
    if (i) s += "; ";
    s += reasons[i];
  }
  if (blocked_partitions > static_cast<int>(reasons.size()))
    s += " (" + std::to_string(blocked_partitions) + " partitions in all)";
  return s;
}

Verdict may_restart(int32_t broker, bool broker_serving, const std::vector<PartitionState>& partitions,
                    const QuorumState& quorum) {
  Verdict v;
  if (!broker_serving) return v;
  for (const PartitionState& p : partitions) {
    if (!has(p.replicas, broker)) continue;
    const int isr = static_cast<int>(p.isr.size());
    const int rf = static_cast<int>(p.replicas.size());
    const bool in_isr = has(p.isr, broker);
    std::string why;
    if (isr < p.min_insync) {
      why = name(p) + ": ISR " + list(p.isr) + " is already below min.insync.replicas " + std::to_string(p.min_insync);
    } else if (in_isr && isr == p.min_insync && p.min_insync < rf) {
      why = name(p) + ": ISR " + list(p.isr) + " is min.insync.replicas " + std::to_string(p.min_insync) +
            "; without broker " + std::to_string(broker) + " acks=all writes would stop";
    } else if (rf >= 3 && in_isr && isr - 1 < majority(p.replicas.size())) {
      why = name(p) + ": ISR " + list(p.isr) + " without broker " + std::to_string(broker) +
            " is not a majority of replicas " + list(p.replicas);
    }
    if (!why.empty()) {
      ++v.blocked_partitions;
      block(v, std::move(why));
    }
  }
  if (has(quorum.voters, broker)) {
    if (quorum.leader < 0) {
      block(v, "the controller quorum has no leader");
    } else if (quorum.voters.size() >= 3) {  // of 1 or 2 voters, none can go without losing the majority
      int others = 0;
      for (int32_t c : quorum.caught_up) others += c != broker && has(quorum.voters, c);
      if (others < majority(quorum.voters.size()))
        block(v, "controller voters caught up besides broker " + std::to_string(broker) + ": " +
                     std::to_string(others) + " of " + std::to_string(quorum.voters.size()) + ", a majority is " +
                     std::to_string(majority(quorum.voters.size())));
    }
  }
  return v;
}

std::vector<int32_t> restart_order(std::vector<int32_t> brokers, const QuorumState& quorum) {
  auto rank = [&](int32_t b) { return b == quorum.leader ? 2 : has(quorum.voters, b) ? 1 : 0; };
  std::sort(brokers.begin(), brokers.end(), [&](int32_t a, int32_t b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
  });
  return brokers;
}

Verdict caught_up(int32_t broker, const std::vector<PartitionState>& partitions, const QuorumState& quorum) {
  Verdict v;
  for (const PartitionState& p : partitions) {
    if (!has(p.replicas, broker) || has(p.isr, broker)) continue;
    ++v.blocked_partitions;
    block(v, name(p) + ": broker " + std::to_string(broker) + " is not in its ISR " + list(p.isr) + " yet");
  }
  if (has(quorum.voters, broker) && !has(quorum.caught_up, broker))
    block(v, "broker " + std::to_string(broker) + " is not caught up with the controller quorum yet");
  return v;
}

}  // namespace millrace::op::rolling
