// Replica placement for new topics and new partitions: which brokers hold
// each partition's replicas, the first being its preferred leader. Pure and
// deterministic (the controller runs it and writes the answer into the
// metadata log, so every node agrees without running it again).
//
// Kafka's rack-aware assignment, in its shape: the live (unfenced) brokers are
// laid out rack by rack in turn (rack a, rack b, rack c, rack a, ...), least
// loaded first within a rack; partition p's leader is the (start + p)-th broker
// of that list, and its followers follow it at a shift that grows every full
// turn, skipping a broker already chosen and, while some rack has none of
// this partition's replicas, a rack that has. So:
//   - replicas of one partition are distinct brokers, on distinct racks
//     whenever there are at least as many racks as replicas;
//   - leaders and replicas spread evenly over the brokers (within one of each
//     other when the counts divide evenly), and over racks;
//   - a replication factor above the live brokers is refused with
//     INVALID_REPLICATION_FACTOR's message; no fenced broker is ever chosen.
// A broker without a rack counts as the rack "" (as KRaft does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace millrace::cluster {

struct PlacementBroker {
  int32_t id = -1;
  std::optional<std::string> rack;
  bool fenced = false;
  int32_t replicas = 0;  // replicas it already holds (ties go to the least loaded)
};

struct Placement {
  std::vector<std::vector<int32_t>> replicas;  // one list per new partition, preferred leader first
  std::string error;                           // INVALID_REPLICATION_FACTOR's message when not placeable
  bool ok() const { return error.empty(); }
};

// Places `partitions` new partitions with `replication_factor` replicas each.
// `first_partition` is the index of the first new one (existing partitions of
// the topic come before it), so added partitions continue the topic's stripe.
Placement place_replicas(const std::vector<PlacementBroker>& brokers, int32_t first_partition, int32_t partitions,
                         int16_t replication_factor);

}  // namespace millrace::cluster
