// raft_sim_mutation_test: the proof that the simulator can fail. Each
// deliberate bug of raft.h's enum Bug (millrace_raft_buggy) must be caught
// within the CI seed budget of mixed scenarios; a catch counts only when the
// same seed passes with Bug::kNone. Prints the seeds until the first catch.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "raft/raft.h"
#include "raft/sim/scenario.h"

namespace millrace::raft::sim {
namespace {

constexpr uint64_t kBudget = 2000;

class Mutation : public ::testing::TestWithParam<int> {};

TEST_P(Mutation, CaughtWithinTheCiBudget) {
  int bug = GetParam();
  std::string report;
  uint64_t seed = first_catch(bug, 1, kBudget, &report);
  std::cout << "mutation " << to_string(static_cast<Bug>(bug)) << ": "
            << (seed ? "caught at seed " + std::to_string(seed) + " (" + std::to_string(seed) + " seeds)"
                     : "NOT caught in " + std::to_string(kBudget) + " seeds")
            << "\n";
  if (seed) std::cout << report.substr(0, report.find('\n')) << "\n";
  EXPECT_NE(seed, 0u) << to_string(static_cast<Bug>(bug)) << " escaped " << kBudget << " seeds";
}

INSTANTIATE_TEST_SUITE_P(EveryBug, Mutation, ::testing::Range(1, kBugCount),
                         [](const ::testing::TestParamInfo<int>& i) { return std::string(to_string(static_cast<Bug>(i.param))); });

TEST(Mutation, NoBugIsClean) {
  for (uint64_t s = 1; s <= 50; ++s) {
    RunSpec spec;
    spec.seed = s;
    RunResult r = run_seed(spec);
    ASSERT_TRUE(r.ok) << r.report;
  }
}

}  // namespace
}  // namespace millrace::raft::sim
