#include "cluster/placement/placement.h"

#include <algorithm>
#include <map>
#include <set>

namespace millrace::cluster {
namespace {

struct Slot {
  int32_t id;
  std::string rack;
};

// Live brokers, rack by rack in turn: racks whose least loaded broker holds
// the fewest replicas first (then fewer in all, then by name), and within a
// rack least loaded first, then by id. So a new topic starts where there is
// room, and the stripe is a function of the loads alone.
std::vector<Slot> rack_alternated(const std::vector<PlacementBroker>& brokers) {
  std::map<std::string, std::vector<const PlacementBroker*>> by_rack;
  for (const auto& b : brokers)
    if (!b.fenced) by_rack[b.rack.value_or("")].push_back(&b);
  struct Rack {
    std::string name;
    std::vector<const PlacementBroker*> list;
    int64_t total = 0;
  };
  std::vector<Rack> racks;
  for (auto& [name, list] : by_rack) {
    std::sort(list.begin(), list.end(), [](const PlacementBroker* a, const PlacementBroker* b) {
      return a->replicas != b->replicas ? a->replicas < b->replicas : a->id < b->id;
    });
    Rack r{name, list, 0};
    for (const auto* b : list) r.total += b->replicas;
    racks.push_back(std::move(r));
  }
  std::sort(racks.begin(), racks.end(), [](const Rack& a, const Rack& b) {
    if (a.list.front()->replicas != b.list.front()->replicas) return a.list.front()->replicas < b.list.front()->replicas;
    if (a.total != b.total) return a.total < b.total;
    return a.name < b.name;
  });
  std::vector<Slot> out;
  for (size_t i = 0;; ++i) {
    bool any = false;
    for (const auto& r : racks)
      if (i < r.list.size()) {
        out.push_back({r.list[i]->id, r.name});
        any = true;
      }
    if (!any) break;
  }
  return out;
}

}  // namespace

Placement place_replicas(const std::vector<PlacementBroker>& brokers, int32_t first_partition, int32_t partitions,
                         int16_t replication_factor) {
  Placement out;
  auto slots = rack_alternated(brokers);
  const auto n = static_cast<int32_t>(slots.size());
  if (replication_factor < 1) {
    out.error = "Replication factor must be larger than 0.";
    return out;
  }
  if (replication_factor > n) {
    out.error = "Replication factor: " + std::to_string(replication_factor) + " larger than available brokers: " +
                std::to_string(n) + ".";
    return out;
  }
  if (partitions < 0 || first_partition < 0) {
    out.error = "Number of partitions must be larger than 0.";
    return out;
  }
  std::set<std::string> all_racks;
  for (const auto& s : slots) all_racks.insert(s.rack);
  for (int32_t p = first_partition; p < first_partition + partitions; ++p) {
    const int32_t leader = p % n;
    const int32_t shift = 1 + (p / n) % std::max(1, n - 1);  // grows every full turn, never 0 mod n
    std::vector<int32_t> chosen = {slots[static_cast<size_t>(leader)].id};
    std::set<std::string> racks = {slots[static_cast<size_t>(leader)].rack};
    for (int32_t k = 0; static_cast<int32_t>(chosen.size()) < replication_factor && k < n * n; ++k) {
      const auto& s = slots[static_cast<size_t>((leader + shift + k) % n)];
      if (std::find(chosen.begin(), chosen.end(), s.id) != chosen.end()) continue;
      if (racks.size() < all_racks.size() && racks.count(s.rack)) continue;  // a rack without one first
      chosen.push_back(s.id);
      racks.insert(s.rack);
    }
    out.replicas.push_back(std::move(chosen));
  }
  return out;
}

}  // namespace millrace::cluster
