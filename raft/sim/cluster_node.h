// One simulated node of a SimCluster (raft/sim, private to cluster*.cc): its
// disk (SimLog and the term/vote file as last synced), the Raft built from
// them while it is up, and its clock.
#pragma once

#include <map>
#include <memory>

#include "raft/raft.h"
#include "raft/sim/cluster.h"
#include "raft/sim/sim_log.h"

namespace millrace::raft::sim {

// A number in a trace line (cluster.cc and faults.cc).
inline std::string s(int64_t v) { return std::to_string(v); }

struct SimCluster::Node {
  int id = 0;
  std::unique_ptr<SimLog> log;
  HardState hard;  // the term/vote file: what a restart reads back
  std::unique_ptr<Raft> raft;  // null while down
  bool up = false;
  int period = kStepsPerTick;  // steps per tick (skew)
  int64_t next_tick = 0;
  Role role = Role::kFollower;  // as of the last drive
  Term term{0};
  // Node liveness (Knobs::quiesce_ticks): when each other node was last heard, in steps.
  std::map<int, int64_t> heard;
  int64_t next_beat = 0;
};

}  // namespace millrace::raft::sim
