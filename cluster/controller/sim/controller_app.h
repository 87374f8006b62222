// The controller's state machine on the Raft simulator (cluster/controller/
// sim): a raft::sim::SimApp whose proposals are the controller's decisions
// (workload.h) as batches of metadata records (metadata_batch.h), and whose
// committed entries every node applies to its own MetadataState, checked
// equal at every committed index (replicas.h). run_controller_seed() runs one
// seed of the simulator's scenarios (raft/sim/scenario.h: crashes, torn
// writes, partitions, clogs, membership changes, retention and snapshots)
// with it.
//
// Threading: none; one run per app.
#pragma once

#include <cstdint>
#include <string>

#include "cluster/controller/sim/replicas.h"
#include "cluster/controller/sim/workload.h"
#include "raft/sim/scenario.h"
#include "raft/sim/sim_app.h"

namespace millrace::cluster::sim {

class ControllerApp : public raft::sim::SimApp {
 public:
  ControllerApp(uint64_t seed, Flaw flaw) : replicas_(flaw), workload_(seed) {}

  std::optional<raft::sim::AppProposal> propose(int leader, raft::Term term, const raft::sim::SimLog& log,
                                                raft::Index commit, int64_t now, bool must) override;
  void on_restart(int node, const raft::sim::SimLog& log, raft::Index commit) override;
  void before_log_start(int node, const raft::sim::SimLog& log, raft::Index new_start) override {
    replicas_.before_log_start(node, log, new_start);
  }
  void on_snapshot(int node, const raft::SnapshotMeta& meta) override { replicas_.install_snapshot(node, meta.index); }
  void on_commit(int node, raft::Index commit, const raft::sim::SimLog& log) override {
    replicas_.commit(node, commit, log);
  }
  const std::string& error() const override;

  const Replicas& replicas() const { return replicas_; }
  const Workload& workload() const { return workload_; }

 private:
  Replicas replicas_;
  Workload workload_;
};

struct ControllerRun {
  raft::sim::RunResult sim;   // ok, error, report (replay command, cluster, last events)
  WorkloadStats workload;
  size_t indices_checked = 0;  // committed indices with a recorded state
  uint64_t comparisons = 0;    // states compared with the first node's at an index
  ReplicaStats replicas;
};

// One seed; `scenario` kMix lets the seed choose (as raft-sim does).
ControllerRun run_controller_seed(uint64_t seed, raft::sim::Scenario scenario, Flaw flaw = {});

}  // namespace millrace::cluster::sim
