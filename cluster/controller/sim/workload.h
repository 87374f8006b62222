// The controller's clients in a simulated metadata quorum (cluster/controller/
// sim): brokers that register, heartbeat, die and come back, and an admin that
// creates topics and partitions, alters configs, deletes topics and asks for
// producer-id blocks; and the Raft leaders of replicated partitions, which
// report leader, term and ISR (report_leadership). Each proposal is what the active controller (the Raft
// leader) decides with TopicControl and BrokerControl against ITS state
// (Replicas::speculative: committed and uncommitted records applied), as one
// batch of records, each applied to that state before the next decision.
//
// Sessions are the controller's memory: each node has its own BrokerControl,
// started afresh when it leads a new term or restarts (as Kafka's). Time is
// the simulator's step count times kMsPerStep.
//
// Deterministic: one rng seeded from the run's seed; no wall clock.
// Threading: none; owned by one simulated run.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cluster/controller/broker_control.h"
#include "cluster/metadata/state/metadata_state.h"

namespace millrace::cluster::sim {

inline constexpr int64_t kMsPerStep = 10;         // a Raft tick (10 steps) is 100 ms
inline constexpr int64_t kHeartbeatMs = 500;
inline constexpr int64_t kSessionMs = 3000;
inline constexpr int32_t kBrokers = 4;

struct WorkloadStats {
  uint64_t batches = 0, records = 0, refused = 0;  // refused: a decision answered with an error
  std::map<std::string, uint64_t> ops;             // by operation
};

class Workload {
 public:
  explicit Workload(uint64_t seed);

  // The records node `leader` (the controller, in `term`) writes now, decided
  // against `state` (advanced as they are decided). `next_offset` is the
  // offset the first record will have; `commit` the leader's commit offset.
  // Empty when there is nothing to write (or a NoOpRecord when `must`).
  // A decision that does not apply to the state it was made against sets
  // error() (a controller bug).
  std::vector<records::AnyRecord> decide(int leader, int64_t term, MetadataState& state, int64_t next_offset,
                                         int64_t commit, int64_t now_step, bool must);
  // Node `node` crashed and restarted: its controller memory is gone.
  void forget(int node) { controllers_.erase(node); }

  const WorkloadStats& stats() const { return stats_; }
  const std::string& error() const { return error_; }

 private:
  struct Broker {
    int32_t id = 0;
    TopicId incarnation{};
    int64_t down_until_ms = 0;  // not running before then
    int64_t last_beat_ms = -1000000;
    bool shutting_down = false;
  };
  struct Controller {
    int64_t term = -1;
    std::unique_ptr<BrokerControl> ctl;
  };

  // Applies `rs` to `state` and appends them to `out`; false (error set) if one does not apply.
  bool take(const char* op, const ControlResult& r, MetadataState& state, std::vector<records::AnyRecord>& out);
  bool take_records(const char* op, std::vector<records::AnyRecord> rs, MetadataState& state,
                    std::vector<records::AnyRecord>& out);
  void brokers(BrokerControl& ctl, MetadataState& state, int64_t next_offset, int64_t commit, int64_t now_ms,
               std::vector<records::AnyRecord>& out);
  void admin(MetadataState& state, std::vector<records::AnyRecord>& out);
  // A replicated partition's Raft leader reports itself (partition_leadership.h).
  void raft_leader(MetadataState& state, const std::string& name, std::vector<records::AnyRecord>& out);
  std::string topic_name() { return std::string("t").append(std::to_string(pick(6))); }
  TopicId random_id();
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  std::mt19937_64 rng_;
  std::vector<Broker> brokers_;
  std::map<int, Controller> controllers_;
  WorkloadStats stats_;
  std::string error_;
};

}  // namespace millrace::cluster::sim
