// The simulator's scenarios and one seeded run (raft/sim). A seed picks the
// scenario (in "mix"), the cluster size and the fault rates; run_seed() runs
// the safety phase with faults, then the liveness phase after healing.
//
// Scenarios:
//   calm        3 nodes, a slow network and nothing else (the baseline)
//   network     3 or 5 nodes: drop, duplicate, reorder, delay, symmetric and
//               one-way partitions, clogged links, swizzle-clogging, skew
//   crash       crashes and restarts, lost and torn unsynced writes, power
//               loss in the middle of a driver write, with network faults
//   membership  5 nodes, 3 voters at start: learners added and promoted,
//               voters removed or demoted (never below 3), leadership
//               transfers, under network faults and crashes
//   retention   log starts move (followers catch up by snapshot) under
//               network faults and crashes
//   prevote     PreVote + CheckQuorum: nodes isolated for long stretches then
//               brought back, with transfers
//   inmemory    Durability::kInMemory under network faults, WITHOUT crashes
//               (that mode may lose committed entries when a majority loses
//               power, so crash runs would fail by design)
//   chaos       everything at once (kSynced)
//   figure8     5 nodes whose new leaders mostly lose power soon after their
//               election, one entry per append: the short terms and
//               divergent suffixes of Raft's Figure 8 (§5.4)
//   stale       the leader's links clogged right after a proposal, for long
//               enough that another leader takes over; then its appends of
//               an older term arrive
// Threading: none; a run is one thread's, runs share nothing.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "raft/sim/cluster.h"

namespace millrace::raft::sim {

enum class Scenario : uint8_t { kCalm, kNetwork, kCrash, kMembership, kRetention, kPreVote, kInMemory, kChaos, kFigure8, kStale, kMix };
inline constexpr int kScenarioCount = 10;  // kMix is not one
const char* to_string(Scenario s);
bool parse_scenario(std::string_view name, Scenario* out);

struct RunSpec {
  uint64_t seed = 0;
  Scenario scenario = Scenario::kMix;  // kMix: the seed chooses
  int bug = 0;                         // raft::Bug, only in the buggy build
  std::ostream* live_trace = nullptr;  // print every event as it happens
  int64_t safety_ticks = 250;
  int64_t liveness_ticks = 150;
  SimApp* app = nullptr;  // optional state machine on top (sim_app.h); fresh for each run
  std::string replay;     // the whole replay command, when not raft-sim's
};

struct RunResult {
  bool ok = true;
  Scenario scenario = Scenario::kCalm;
  int nodes = 0;
  std::string error;   // the first violation
  std::string report;  // replay command, cluster state and the trace's last events
  SimStats stats;
};

// The knobs a seed chooses for a scenario (kMix: the scenario too).
Knobs knobs_for(uint64_t seed, Scenario* scenario);
RunResult run_seed(const RunSpec& spec);

// The mutation proof (buggy build only: `bug` is a raft::Bug): the first seed
// in [start, start + budget) whose mixed-scenario run fails with `bug` and
// passes with Bug::kNone (so the catch is the bug's, not another fault's).
// Returns 0 when none does; `report` gets that seed's failure report.
uint64_t first_catch(int bug, uint64_t start, uint64_t budget, std::string* report);

}  // namespace millrace::raft::sim
