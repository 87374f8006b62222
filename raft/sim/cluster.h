// A simulated Raft group (raft/sim): nodes 1..n, each the real raft::Raft over
// a SimLog (its disk) and a term/vote "file", driven exactly as raft.h's
// driver loop says, over a SimNetwork, with a simulated clock: time moves in
// steps, each node ticks every ~kStepsPerTick steps at its own rate (skew).
// Faults (chosen by Knobs, injected with the run's one rng): partitions,
// clogs and swizzle-clogs, crashes with lost and torn unsynced writes,
// crashes in the middle of a driver write, membership changes, leadership
// transfers and log-start moves (retention). Clients propose unique values
// to the leader and record acknowledgements. Every step ends with the
// invariant checker (invariants.h).
//
// run_safety() runs with faults; run_liveness() heals everything (all nodes
// up, network whole, no clogs) and requires a new proposal to commit within a
// bound. Deterministic: same seed and knobs, same run.
//
// With a SimApp (sim_app.h) the proposals are the application's and every
// node's committed entries go to it in order; its error() stops the run too.
//
// Threading: none; one run per SimCluster.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "raft/raft.h"
#include "raft/sim/invariants.h"
#include "raft/sim/sim_app.h"
#include "raft/sim/sim_log.h"
#include "raft/sim/sim_network.h"
#include "raft/sim/trace.h"

namespace millrace::raft::sim {

inline constexpr int kStepsPerTick = 10;

// Rates are per mille per step (a tick is kStepsPerTick steps).
struct Knobs {
  int nodes = 3;
  int initial_voters = 3;  // nodes 1..initial_voters vote at start; the others may join
  Durability durability = Durability::kSynced;
  bool pre_vote = true;
  bool check_quorum = true;
  int skew = 0;  // each node ticks every kStepsPerTick +- up to skew steps
  NetworkFaults net;
  int partition_rate = 0;
  int clog_rate = 0;
  int swizzle_rate = 0;       // start a swizzle-clog (clog nodes one by one, unclog in random order)
  int isolate_return_rate = 0;  // isolate one node for a long while, then bring it back
  int crash_rate = 0;
  int max_down = 0;           // nodes down at once
  int write_crash_rate = 0;   // per mille of driver writes: power loss before the sync
  int leader_crash_pct = 0;   // percent of elections: the new leader loses power soon after
                              // (short terms, divergent suffixes: Raft's Figure 8)
  int leader_crash_within = 40;  // steps after the election
  int restart_within = 400;      // a crashed node restarts within this many steps (at least 10)
  int propose_rate = 100;
  int leader_clog_rate = 0;   // a proposal, then the leader's links clogged for a while
  int member_rate = 0;
  int transfer_rate = 0;
  int retention_rate = 0;
  size_t max_append_bytes = 96;  // Options::max_append_bytes (1: one entry per append)
  size_t max_inflight = 4;
  int bug = 0;  // raft::Bug (only with MILLRACE_RAFT_BUGS)
  // raft::Options::quiesce_ticks. With it the nodes keep node liveness as
  // the broker's ReplicaSet does: a beat (a group-0 message, through the same
  // faulty network) to every other node every 3 ticks, and a quiescent
  // follower whose leader's node was not heard for an election timeout is woken.
  int quiesce_ticks = 0;
};

struct SimStats {
  int64_t steps = 0;
  uint64_t proposals = 0;
  uint64_t acked = 0;
  uint64_t crashes = 0;
  uint64_t elections = 0;
  uint64_t config_changes = 0;
  uint64_t wakes = 0;  // quiescent followers woken by node liveness
};

class SimCluster {
 public:
  // `app` (optional, not owned) must outlive the cluster.
  SimCluster(uint64_t seed, const Knobs& knobs, Trace& trace, SimApp* app = nullptr);
  ~SimCluster();

  // Faults on for `ticks`; false on a safety violation (checker().error()).
  bool run_safety(int64_t ticks);
  // Heal, then a new proposal must commit within `max_ticks`; false with
  // error() set otherwise.
  bool run_liveness(int64_t max_ticks);

  // The per-step checks, now (the checker self-test plants a bug, then asks).
  void check_now() { check(); }
  const InvariantChecker& checker() const { return checker_; }
  InvariantChecker& checker_for_test() { return checker_; }
  SimLog& log_for_test(int node);
  const std::string& error() const {
    if (!error_.empty()) return error_;
    if (app_ != nullptr && !app_->error().empty() && checker_.error().empty()) return app_->error();
    return checker_.error();
  }
  const SimStats& stats() const { return stats_; }
  // One line per node: up/down, role, term, commit, log range, config.
  std::string describe() const;

 private:
  struct Node;
  struct Pending {
    uint64_t id;
    Term term;
    Payload data;
  };

  void step(bool faults);
  void drive(Node& n);
  void crash(Node& n, const std::string& why);
  void restart(Node& n);
  void liveness(Node& n);
  void check();
  void inject_faults();
  void propose();
  void change_membership();
  void transfer();
  void move_log_start();
  void partition();
  void clog();
  void swizzle();
  void isolate_and_return();
  void clog_leader();
  void observe_acks(Node& leader);
  Node* leader();
  int down() const;
  bool chance(int per_mille) { return per_mille > 0 && static_cast<int>(rng_() % 1000) < per_mille; }
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  void at(int64_t step, std::function<void()> action) { schedule_.emplace(step, std::move(action)); }
  void note(std::string what) { trace_.add(now_, std::move(what)); }

  Knobs knobs_;
  SimApp* app_;
  std::mt19937_64 rng_;
  Trace& trace_;
  SimNetwork net_;
  InvariantChecker checker_;
  std::vector<std::unique_ptr<Node>> nodes_;  // nodes_[k] is node k + 1
  std::multimap<int64_t, std::function<void()>> schedule_;
  std::multimap<Index, Pending> pending_;
  int64_t now_ = 0;
  bool faults_on_ = true;  // off in the liveness phase: no new crashes of any kind
  uint64_t next_id_ = 1;
  std::string error_;
  SimStats stats_;
};

}  // namespace millrace::raft::sim
