#include "operator/rebalance/on_scale.h"

#include <algorithm>

namespace millrace::op::rebalance {

ScaleDecision decide_on_scale(const ScaleFacts& f) {
  ScaleDecision d;
  auto sorted = [](std::vector<int32_t> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };
  auto kept = sorted(f.kept);
  if (!f.balanced) {  // first sight: adopt what runs
    d.balanced = kept;
    return d;
  }
  // Forget brokers that are neither kept nor departing: they are gone.
  for (auto id : *f.balanced)
    if (std::count(kept.begin(), kept.end(), id) || std::count(f.departing.begin(), f.departing.end(), id))
      d.balanced.push_back(id);
  d.balanced = sorted(d.balanced);
  if (!f.departing.empty()) {
    if (f.departing_hold_data) {
      d.action = ScaleAction::kRemoveBrokers;
      d.brokers = sorted(f.departing);
    }
    return d;  // nothing is added while brokers leave
  }
  std::vector<int32_t> fresh;
  for (auto id : kept)
    if (!std::binary_search(d.balanced.begin(), d.balanced.end(), id)) fresh.push_back(id);
  if (fresh.empty() || !f.kept_ready) return d;
  d.action = ScaleAction::kAddBrokers;
  d.brokers = fresh;
  d.balanced.insert(d.balanced.end(), fresh.begin(), fresh.end());
  d.balanced = sorted(d.balanced);
  return d;
}

std::string scale_rebalance_name(const std::string& millrace, int64_t generation, ScaleAction action) {
  return millrace + "-g" + std::to_string(generation) + (action == ScaleAction::kRemoveBrokers ? "-remove" : "-add");
}

}  // namespace millrace::op::rebalance
