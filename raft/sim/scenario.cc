#include "raft/sim/scenario.h"

#include <random>

namespace millrace::raft::sim {

const char* to_string(Scenario s) {
  switch (s) {
    case Scenario::kCalm: return "calm";
    case Scenario::kNetwork: return "network";
    case Scenario::kCrash: return "crash";
    case Scenario::kMembership: return "membership";
    case Scenario::kRetention: return "retention";
    case Scenario::kPreVote: return "prevote";
    case Scenario::kInMemory: return "inmemory";
    case Scenario::kChaos: return "chaos";
    case Scenario::kFigure8: return "figure8";
    case Scenario::kStale: return "stale";
    case Scenario::kMix: return "mix";
  }
  return "?";
}

bool parse_scenario(std::string_view name, Scenario* out) {
  for (int k = 0; k <= kScenarioCount; ++k) {
    auto s = static_cast<Scenario>(k);
    if (name == to_string(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

namespace {

void network_faults(std::mt19937_64& rng, Knobs& k) {
  auto r = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  k.net.drop_pct = r(15);
  k.net.dup_pct = r(10);
  k.net.max_delay = 3 + r(15);
  k.net.slow_pct = r(10);
  k.partition_rate = 1 + r(4);
  k.clog_rate = r(5);
  k.swizzle_rate = r(2);
  k.skew = r(2);  // 10% at most: at 20% a fast node with a stale log and PreVote off out-campaigns everyone forever
}

}  // namespace

Knobs knobs_for(uint64_t seed, Scenario* scenario) {
  // A stream of its own so the choice does not shift the run's rng.
  std::mt19937_64 rng(seed ^ 0x9E3779B97F4A7C15ull);
  auto r = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  if (*scenario == Scenario::kMix) {
    // calm 4%, the others in equal parts.
    int x = r(100);
    *scenario = x < 4 ? Scenario::kCalm : static_cast<Scenario>(1 + (x - 4) % (kScenarioCount - 1));
  }
  Knobs k;
  k.nodes = r(2) ? 5 : 3;
  k.initial_voters = k.nodes;
  k.pre_vote = r(4) != 0;
  k.check_quorum = r(4) != 0;
  k.propose_rate = 60 + r(100);
  static constexpr size_t kAppendBytes[] = {1, 64, 96, 256, 4096};
  k.max_append_bytes = kAppendBytes[r(5)];
  k.max_inflight = 1 + static_cast<size_t>(r(8));
  switch (*scenario) {
    case Scenario::kCalm:
      k.nodes = k.initial_voters = 3;
      break;
    case Scenario::kNetwork:
      network_faults(rng, k);
      break;
    case Scenario::kCrash:
      network_faults(rng, k);
      k.partition_rate /= 2;
      k.crash_rate = 2 + r(6);
      k.max_down = k.nodes / 2 + 1;  // a majority may be down: safety must hold anyway
      k.write_crash_rate = 2 + r(10);
      k.leader_crash_pct = r(2) * (20 + r(60));
      break;
    case Scenario::kMembership:
      network_faults(rng, k);
      k.nodes = 5;
      k.initial_voters = 3;
      k.member_rate = 5 + r(15);
      k.transfer_rate = 1 + r(5);
      k.crash_rate = r(3);
      k.max_down = 2;
      k.write_crash_rate = r(4);
      break;
    case Scenario::kRetention:
      network_faults(rng, k);
      k.retention_rate = 10 + r(40);
      k.crash_rate = r(4);
      k.max_down = k.nodes / 2;
      k.write_crash_rate = r(4);
      break;
    case Scenario::kPreVote:
      k.pre_vote = true;
      k.check_quorum = true;
      k.net.max_delay = 3 + r(8);
      k.isolate_return_rate = 2 + r(4);
      k.transfer_rate = r(3);
      k.skew = r(2);  // 10% at most: at 20% a fast node with a stale log and PreVote off out-campaigns everyone forever
      break;
    case Scenario::kInMemory:
      network_faults(rng, k);
      k.durability = Durability::kInMemory;
      k.retention_rate = r(10);
      k.transfer_rate = r(2);
      break;
    case Scenario::kChaos:
      network_faults(rng, k);
      k.nodes = 5;
      k.initial_voters = 3 + 2 * r(2);
      k.crash_rate = 1 + r(4);
      k.max_down = 3;
      k.write_crash_rate = 1 + r(5);
      k.member_rate = r(10);
      k.transfer_rate = r(4);
      k.retention_rate = r(20);
      k.isolate_return_rate = r(2);
      k.leader_crash_pct = r(40);
      break;
    case Scenario::kFigure8:
      k.nodes = k.initial_voters = 5;
      k.net.max_delay = 3 + r(10);
      k.propose_rate = 20 + r(60);  // one entry per append: more would only queue
      k.crash_rate = 2 + r(4);
      k.max_down = 2;
      k.leader_crash_pct = 50 + r(45);
      k.leader_crash_within = 5 + r(30);
      k.restart_within = 30 + r(100);
      k.check_quorum = r(2) != 0;  // its lease makes followers ignore the quick elections
      k.partition_rate = 2 + r(6);  // minorities with suffixes of their own terms
      k.clog_rate = r(4);
      k.max_append_bytes = 1;
      k.max_inflight = 1 + static_cast<size_t>(r(2));
      break;
    case Scenario::kStale:
      k.net.max_delay = 3 + r(10);
      k.net.dup_pct = r(5);
      k.leader_clog_rate = 2 + r(5);
      break;
    case Scenario::kMix:
      break;
  }
  // A third of the runs quiesce idle groups (drawn last: the knobs above stay
  // what they were for every seed).
  k.quiesce_ticks = r(3) == 0 ? 2 + r(6) : 0;
  // Without PreVote a node removed from the voters (it never learns it) or
  // one with a stale log and a faster clock may out-campaign the others
  // forever: Raft's answer is PreVote, so runs that change membership or
  // skew clocks keep it on (the liveness phase could not promise anything).
  if (k.member_rate > 0 || k.skew > 0) k.pre_vote = true;
  return k;
}

RunResult run_seed(const RunSpec& spec) {
  RunResult res;
  res.scenario = spec.scenario;
  Knobs k = knobs_for(spec.seed, &res.scenario);
  k.bug = spec.bug;
  res.nodes = k.nodes;
  Trace trace(spec.live_trace ? 0 : 300, spec.live_trace);
  SimCluster c(spec.seed, k, trace, spec.app);
  bool ok = c.run_safety(spec.safety_ticks) && c.run_liveness(spec.liveness_ticks);
  res.stats = c.stats();
  if (ok) return res;
  res.ok = false;
  res.error = c.error();
  std::string& r = res.report;
  r += "FAILED seed " + std::to_string(spec.seed) + " (scenario " + to_string(res.scenario) + ", " +
       std::to_string(k.nodes) + " nodes): " + res.error + "\n";
  if (!spec.replay.empty()) {
    r += "replay: " + spec.replay;
  } else {
    r += "replay: MILLRACE_SEED=" + std::to_string(spec.seed);
    r.append(spec.bug != 0 ? " build/release/raft/sim/raft-sim-buggy" : " build/release/raft/sim/raft-sim");
    if (spec.scenario != Scenario::kMix) r.append(" --scenario ").append(to_string(spec.scenario));
    if (spec.bug != 0) r.append(" --bug ").append(std::to_string(spec.bug));
  }
  r += "\ncluster:\n" + c.describe();
  r += "last events:\n";
  for (const std::string& e : trace.events()) r += "  " + e + "\n";
  return res;
}

uint64_t first_catch(int bug, uint64_t start, uint64_t budget, std::string* report) {
  for (uint64_t s = start; s < start + budget; ++s) {
    RunSpec spec;
    spec.seed = s;
    spec.bug = bug;
    RunResult r = run_seed(spec);
    if (r.ok) continue;
    spec.bug = 0;
    if (!run_seed(spec).ok) continue;  // fails without the bug too: not this bug's catch
    *report = r.report;
    return s;
  }
  return 0;
}

}  // namespace millrace::raft::sim
