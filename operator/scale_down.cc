#include "operator/scale_down.h"

#include <algorithm>

namespace millrace::op {

ScaleDownPlan plan_scale_down(int live, int desired, const std::function<BrokerLoad(int ordinal)>& load) {
  ScaleDownPlan plan{live, std::nullopt};
  if (desired >= live) return {desired, std::nullopt};  // scale-up or steady: nothing to check
  for (int ordinal = live - 1; ordinal >= desired; --ordinal) {
    auto l = load(ordinal);
    if (!l.empty()) {
      plan.blocker = l;
      return plan;
    }
    plan.replicas = ordinal;
  }
  return plan;
}

int brokers_to_run(int spec_brokers, int voter_pods) { return std::max(spec_brokers, voter_pods); }

std::string scale_down_message(const BrokerLoad& b, int live, int desired) {
  std::string who = "broker " + (b.broker_id >= 0 ? std::to_string(b.broker_id) : std::string("?")) + " (pod " +
                    b.pod + ")";
  std::string hold = "; holding the StatefulSet at " + std::to_string(live) + " brokers instead of " +
                     std::to_string(desired);
  if (!b.error.empty()) return "cannot tell whether " + who + " still hosts partitions: " + b.error + hold;
  return who + " still hosts " + std::to_string(b.partitions) + " partition replica" +
         (b.partitions == 1 ? "" : "s") + (b.drain.empty() ? std::string() : ": " + b.drain) + hold;
}

}  // namespace millrace::op
