// raft-sim: runs the deterministic simulator over many seeds (raft/sim).
//   raft-sim [--seeds N] [--start S] [--scenario NAME|mix] [--bug B]
//   MILLRACE_SEED=<n> raft-sim [--scenario NAME]   replays one seed with a full trace
// --bug exists in raft-sim-buggy only (built against millrace_raft_buggy).
// Exit status 1 on the first failing seed (its report is printed).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "raft/raft.h"
#include "raft/sim/scenario.h"

using namespace millrace::raft;
using namespace millrace::raft::sim;

namespace {
int usage() {
  std::fprintf(stderr, "usage: raft-sim [--seeds N] [--start S] [--scenario NAME|mix]");
#ifdef MILLRACE_RAFT_BUGS
  std::fprintf(stderr, " [--bug 1..%d] [--first-catch BUG (after --seeds/--start)]", kBugCount - 1);
#endif
  std::fprintf(stderr, "\n  MILLRACE_SEED=<n> raft-sim   replays one seed with a full trace\n");
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  uint64_t seeds = 1000, start = 1;
  RunSpec spec;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (a == "--seeds") seeds = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--start") start = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--scenario") {
      if (!parse_scenario(v, &spec.scenario)) return usage();
    }
#ifdef MILLRACE_RAFT_BUGS
    else if (a == "--bug") spec.bug = std::atoi(v.c_str());
    else if (a == "--first-catch") {  // the mutation proof for one bug, by hand
      std::string report;
      int bug = std::atoi(v.c_str());
      uint64_t s = first_catch(bug, start, seeds, &report);
      std::cout << report << to_string(static_cast<Bug>(bug)) << ": " << (s ? "caught at seed " + std::to_string(s) : std::string("NOT caught")) << "\n";
      return s ? 0 : 1;
    }
#endif
    else return usage();
  }
  if (const char* env = std::getenv("MILLRACE_SEED")) {
    spec.seed = std::strtoull(env, nullptr, 10);
    spec.live_trace = &std::cout;
    RunResult r = run_seed(spec);
    std::cout << (r.ok ? "OK" : r.report) << "\nseed " << spec.seed << " scenario " << to_string(r.scenario) << " nodes "
              << r.nodes << " ticks " << r.stats.steps / kStepsPerTick << " proposals " << r.stats.proposals
              << " acknowledged " << r.stats.acked << "\n";
    return r.ok ? 0 : 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  uint64_t per[kScenarioCount] = {};
  SimStats total;
  uint64_t run = 0;
  bool failed = false;
  for (uint64_t s = start; s < start + seeds; ++s) {
    spec.seed = s;
    RunResult r = run_seed(spec);
    ++run;
    ++per[static_cast<int>(r.scenario)];
    total.steps += r.stats.steps;
    total.proposals += r.stats.proposals;
    total.acked += r.stats.acked;
    total.crashes += r.stats.crashes;
    total.elections += r.stats.elections;
    total.config_changes += r.stats.config_changes;
    total.wakes += r.stats.wakes;
    if (run % 10000 == 0)
      std::cerr << "raft-sim: " << run << " seeds clean so far, "
                << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
    if (!r.ok) {
      std::cout << r.report;
      failed = true;
      break;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "raft-sim: " << run << " seeds from " << start << (failed ? " (stopped at a FAILURE)" : " clean") << " in "
            << secs << " s\n  scenarios:";
  for (int k = 0; k < kScenarioCount; ++k) std::cout << " " << to_string(static_cast<Scenario>(k)) << "=" << per[k];
  std::cout << "\n  ticks " << total.steps / kStepsPerTick << ", proposals " << total.proposals << ", acknowledged "
            << total.acked << ", crashes " << total.crashes << ", elections " << total.elections
            << ", config changes " << total.config_changes << ", quiescent followers woken " << total.wakes << "\n";
  return failed ? 1 : 0;
}
