// raft_sim_test: the simulator's CI budget (2,000 seeds of mixed scenarios
// against the real core, clean), determinism, and proof that the checker
// catches what it claims to (a planted bug in its input).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "raft/sim/cluster.h"
#include "raft/sim/invariants.h"
#include "raft/sim/scenario.h"

namespace millrace::raft::sim {
namespace {

// 2,000 in make test; sanitizer builds (about ten times slower) run fewer
// (MILLRACE_SIM_CI_SEEDS from CMake); MILLRACE_SIM_SEEDS overrides either.
#ifndef MILLRACE_SIM_CI_SEEDS
#define MILLRACE_SIM_CI_SEEDS 2000
#endif
uint64_t ci_seeds() {
  if (const char* env = std::getenv("MILLRACE_SIM_SEEDS")) return std::strtoull(env, nullptr, 10);
  return MILLRACE_SIM_CI_SEEDS;
}

TEST(RaftSim, CiBudgetOfMixedSeedsIsClean) {
  auto t0 = std::chrono::steady_clock::now();
  uint64_t per[kScenarioCount] = {};
  SimStats total;
  const uint64_t seeds = ci_seeds();
  for (uint64_t s = 1; s <= seeds; ++s) {
    RunSpec spec;
    spec.seed = s;
    RunResult r = run_seed(spec);
    ++per[static_cast<int>(r.scenario)];
    total.steps += r.stats.steps;
    total.proposals += r.stats.proposals;
    total.acked += r.stats.acked;
    ASSERT_TRUE(r.ok) << r.report;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "raft-sim CI budget: " << seeds << " seeds clean in " << secs << " s;";
  for (int k = 0; k < kScenarioCount; ++k) std::cout << " " << to_string(static_cast<Scenario>(k)) << "=" << per[k];
  std::cout << "; ticks " << total.steps / kStepsPerTick << ", proposals " << total.proposals << ", acknowledged "
            << total.acked << "\n";
}

TEST(RaftSim, EveryScenarioRunsClean) {
  for (int k = 0; k < kScenarioCount; ++k) {
    RunSpec spec;
    spec.seed = 7;
    spec.scenario = static_cast<Scenario>(k);
    RunResult r = run_seed(spec);
    EXPECT_TRUE(r.ok) << r.report;
    EXPECT_EQ(r.scenario, spec.scenario);
    EXPECT_GT(r.stats.acked, 0u) << to_string(spec.scenario);
  }
}

TEST(RaftSim, SameSeedSameRun) {
  RunSpec spec;
  spec.seed = 42;
  spec.scenario = Scenario::kChaos;
  RunResult a = run_seed(spec), b = run_seed(spec);
  EXPECT_EQ(a.stats.steps, b.stats.steps);
  EXPECT_EQ(a.stats.proposals, b.stats.proposals);
  EXPECT_EQ(a.stats.acked, b.stats.acked);
  EXPECT_EQ(a.stats.crashes, b.stats.crashes);
  EXPECT_EQ(a.stats.elections, b.stats.elections);
}

TEST(RaftSim, ScenarioNamesParse) {
  Scenario s;
  EXPECT_TRUE(parse_scenario("membership", &s));
  EXPECT_EQ(s, Scenario::kMembership);
  EXPECT_TRUE(parse_scenario("mix", &s));
  EXPECT_FALSE(parse_scenario("nope", &s));
}

// A calm 3-node cluster that has committed something.
struct Calm {
  Knobs k;
  Trace trace{50};
  std::unique_ptr<SimCluster> c;
  Calm() {
    c = std::make_unique<SimCluster>(5, k, trace);
    EXPECT_TRUE(c->run_safety(60));
    EXPECT_GT(c->checker().highest_commit(), Index(5));
  }
};

// Checker self-test: a disk that corrupts a committed entry on one node.
TEST(RaftSimChecker, CatchesACorruptedCommittedEntry) {
  Calm calm;
  SimLog& log = calm.c->log_for_test(2);
  Index victim = log.all()[log.all().size() / 2].last;
  ASSERT_LE(victim, calm.c->checker().highest_commit());
  ASSERT_TRUE(log.corrupt_for_test(victim));
  calm.c->check_now();
  EXPECT_TRUE(calm.c->checker().failed());
  EXPECT_NE(calm.c->checker().error().find("log matching"), std::string::npos) << calm.c->checker().error();
}

TEST(RaftSimChecker, CatchesACommittedEntryLostInACrash) {
  Knobs k;
  Trace trace(50);
  SimCluster c(5, k, trace);
  ASSERT_TRUE(c.run_safety(60));
  InvariantChecker& ck = c.checker_for_test();
  // Node 3's disk comes back empty though it had committed entries.
  SimLog empty(Config{{NodeId(1), NodeId(2), NodeId(3)}, {}, {}});
  ck.on_restart(3, empty, Index(-1));
  EXPECT_TRUE(ck.failed());
  EXPECT_NE(ck.error().find("lost in a crash"), std::string::npos) << ck.error();
}

TEST(RaftSimChecker, CatchesTwoLeadersInOneTerm) {
  InvariantChecker ck(3, true);
  SimLog log(Config{{NodeId(1), NodeId(2), NodeId(3)}, {}, {}});
  ck.on_leader(1, Term(4), log);
  EXPECT_FALSE(ck.failed());
  ck.on_leader(2, Term(4), log);
  EXPECT_TRUE(ck.failed());
}

TEST(RaftSimChecker, CatchesTruncationBelowCommit) {
  Knobs k;
  Trace trace(50);
  SimCluster c(5, k, trace);
  ASSERT_TRUE(c.run_safety(60));
  InvariantChecker& ck = c.checker_for_test();
  const SimLog& log = c.log_for_test(1);
  ck.before_truncate(1, log, log.all()[1].first);
  EXPECT_TRUE(ck.failed());
}

TEST(RaftSimChecker, CatchesCommitGoingBack) {
  Calm calm;
  InvariantChecker& ck = calm.c->checker_for_test();
  ck.on_commit(1, Term(9), Index(0), calm.c->log_for_test(1));
  EXPECT_TRUE(ck.failed());
  EXPECT_NE(ck.error().find("went back"), std::string::npos) << ck.error();
}

TEST(RaftSimChecker, CatchesAnAcknowledgementOfSomethingElse) {
  Calm calm;
  InvariantChecker& ck = calm.c->checker_for_test();
  auto other = std::make_shared<const std::vector<uint8_t>>(3, 0x55);
  ck.on_ack(999, Index(0), Term(1), other);
  EXPECT_TRUE(ck.failed());
}

}  // namespace
}  // namespace millrace::raft::sim
