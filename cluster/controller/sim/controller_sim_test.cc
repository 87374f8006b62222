// controller_sim_test: the controller's state machine on the Raft simulator.
// Seeds of the simulator's scenarios (crashes, torn writes, partitions,
// clogs, membership changes, retention and snapshots) with the controller's
// decisions as the proposals; every node's metadata state must be equal at
// every committed index, and every committed entry must apply. Then proof
// that the checker catches a node that applies wrongly (README.md).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "cluster/controller/sim/controller_app.h"
#include "cluster/metadata/records/generated/record_types.h"

namespace millrace::cluster::sim {
namespace {

using raft::sim::Scenario;

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

Scenario env_scenario(Scenario fallback) {
  const char* v = std::getenv("MILLRACE_SIM_SCENARIO");
  Scenario s = fallback;
  if (v != nullptr && *v != '\0' && !raft::sim::parse_scenario(v, &s)) ADD_FAILURE() << "unknown scenario " << v;
  return s;
}

// Runs seeds [start, start + n) of `scenario`; fails on the first bad seed
// with its report. Prints what the runs covered.
void run_clean(const char* what, Scenario scenario, uint64_t start, uint64_t n) {
  auto t0 = std::chrono::steady_clock::now();
  WorkloadStats total;
  uint64_t indices = 0, comparisons = 0, crashes = 0, elections = 0;
  ReplicaStats rs;
  for (uint64_t seed = start; seed < start + n; ++seed) {
    ControllerRun r = run_controller_seed(seed, scenario);
    ASSERT_TRUE(r.sim.ok) << r.sim.report;
    total.batches += r.workload.batches;
    total.records += r.workload.records;
    total.refused += r.workload.refused;
    for (const auto& [op, count] : r.workload.ops) total.ops[op] += count;
    indices += r.indices_checked;
    comparisons += r.comparisons;
    crashes += r.sim.stats.crashes;
    elections += r.sim.stats.elections;
    rs.restarts_from_snapshot += r.replicas.restarts_from_snapshot;
    rs.snapshots_kept += r.replicas.snapshots_kept;
    rs.snapshots_installed += r.replicas.snapshots_installed;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << what << ": " << n << " seeds clean in " << secs << " s; " << total.batches << " batches, "
            << total.records << " records, " << total.refused << " refused; " << indices << " committed indices, "
            << comparisons << " state comparisons; " << crashes << " crashes, " << elections << " elections; snapshots: " << rs.snapshots_kept
            << " kept before retention, " << rs.snapshots_installed << " installed from a leader, "
            << rs.restarts_from_snapshot << " restarts from one\n  ops:";
  for (const auto& [op, count] : total.ops) std::cout << " " << op << "=" << count;
  std::cout << "\n";
  if (n >= 20) {
    for (const char* op : {"register", "heartbeat", "expire", "shutdown", "create_topic", "create_partitions",
                           "alter_config", "delete_topic", "producer_ids", "report_leadership"})
      EXPECT_GT(total.ops[op], 0u) << op << " never decided: the workload does not cover it";
    EXPECT_GT(comparisons, indices) << "nodes' states were hardly compared";
    if (scenario == Scenario::kMix) {
      EXPECT_GT(crashes, 0u);
      EXPECT_GT(rs.snapshots_installed, 0u) << "no node caught up by snapshot";
      EXPECT_GT(rs.restarts_from_snapshot, 0u) << "no restart rebuilt its state from a snapshot";
    }
  }
}

// 2,000 seeds in make test (about 7 s in Release); sanitizer builds run
// fewer (MILLRACE_CONTROLLER_SIM_CI_SEEDS from CMake).
#ifndef MILLRACE_CONTROLLER_SIM_CI_SEEDS
#define MILLRACE_CONTROLLER_SIM_CI_SEEDS 2000
#endif

// The CI budget (MILLRACE_SIM_SEEDS and MILLRACE_SIM_START override it;
// MILLRACE_SIM_SCENARIO fixes the scenario, default mix).
TEST(ControllerSim, MixedSeedsKeepEveryNodesStateEqual) {
  run_clean("controller sim, mixed scenarios", env_scenario(Scenario::kMix), env_u64("MILLRACE_SIM_START", 1),
            env_u64("MILLRACE_SIM_SEEDS", MILLRACE_CONTROLLER_SIM_CI_SEEDS));
}

// The faults this test is for, whatever the mix picks: crashes (lost and torn
// unsynced writes, power loss mid-write), partitions and clogs, and both at
// once with membership changes and retention (snapshots).
TEST(ControllerSim, CrashAndPartitionSeedsKeepEveryNodesStateEqual) {
  for (Scenario s : {Scenario::kCrash, Scenario::kNetwork, Scenario::kChaos, Scenario::kRetention})
    run_clean(raft::sim::to_string(s), s, 1001, 15);
}

TEST(ControllerSim, SameSeedSameRun) {
  ControllerRun a = run_controller_seed(42, Scenario::kChaos);
  ControllerRun b = run_controller_seed(42, Scenario::kChaos);
  ASSERT_TRUE(a.sim.ok) << a.sim.report;
  EXPECT_EQ(a.sim.stats.steps, b.sim.stats.steps);
  EXPECT_EQ(a.workload.records, b.workload.records);
  EXPECT_EQ(a.indices_checked, b.indices_checked);
  EXPECT_EQ(a.comparisons, b.comparisons);
}

// The first seed (of 200) on which the checker catches `flaw`; its message.
std::string first_catch(Flaw flaw) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    ControllerRun r = run_controller_seed(seed, Scenario::kCrash, flaw);
    if (!r.sim.ok) {
      std::cout << "caught on seed " << seed << ": " << r.sim.error << "\n";
      return r.sim.error;
    }
  }
  return "";
}

TEST(ControllerSim, CatchesANodeThatIgnoresConfigRecords) {
  Flaw flaw;
  flaw.kind = Flaw::Kind::kSkipRecordType;
  flaw.node = 2;
  flaw.record_type = static_cast<int16_t>(records::RecordType::kConfigRecord);
  std::string error = first_catch(flaw);
  EXPECT_NE(error.find("metadata state after committed index"), std::string::npos) << error;
  EXPECT_NE(error.find("ConfigRecord"), std::string::npos) << error;
}

TEST(ControllerSim, CatchesANodeThatAppliesEntriesOutOfOrder) {
  Flaw flaw;
  flaw.kind = Flaw::Kind::kSwapEntries;
  flaw.node = 1;
  std::string error = first_catch(flaw);
  EXPECT_NE(error.find("node 1"), std::string::npos) << error;
}

// MILLRACE_SEED=<n> [MILLRACE_SIM_SCENARIO=<name>]: one seed again, with the
// simulator's full trace printed as it runs.
TEST(ControllerSim, ReplayOneSeed) {
  uint64_t seed = env_u64("MILLRACE_SEED", 0);
  if (seed == 0) GTEST_SKIP() << "set MILLRACE_SEED to replay a seed";
  ControllerApp app(seed, Flaw{});
  raft::sim::RunSpec spec;
  spec.seed = seed;
  spec.scenario = env_scenario(Scenario::kMix);
  spec.app = &app;
  spec.live_trace = &std::cout;
  raft::sim::RunResult r = raft::sim::run_seed(spec);
  EXPECT_TRUE(r.ok) << r.report;
}

}  // namespace
}  // namespace millrace::cluster::sim
