#include "operator/fault_injection.h"

#include <gtest/gtest.h>

#include <thread>

namespace millrace::op {
namespace {

TEST(FaultPlan, EmptyIsInert) {
  auto p = parse_fault_plan("");
  EXPECT_TRUE(p.error.empty());
  EXPECT_EQ(p.plan.exit_after_writes, 0);
}

TEST(FaultPlan, ParsesCountAndKind) {
  auto p = parse_fault_plan("exit-after-writes:3:Topic");
  ASSERT_TRUE(p.error.empty()) << p.error;
  EXPECT_EQ(p.plan.exit_after_writes, 3);
  EXPECT_EQ(p.plan.kind, "Topic");
  EXPECT_EQ(parse_fault_plan("exit-after-writes:12").plan.kind, "");
}

TEST(FaultPlan, RejectsBadValuesWithTheVariableName) {
  for (const char* bad : {"exit-after-writes:0", "exit-after-writes:x", "exit-after-writes:", "crash",
                          "exit-after-writes:2:Pod", "exit-after-writes:99999"}) {
    auto p = parse_fault_plan(bad);
    EXPECT_NE(p.error.find(kFaultEnv), std::string::npos) << bad;
    EXPECT_EQ(p.plan.exit_after_writes, 0) << bad;
  }
}

struct Recorder {
  std::vector<std::string> deaths;
  FaultInjector make(const std::string& spec) {
    return FaultInjector(parse_fault_plan(spec).plan, [this](const std::string& why) { deaths.push_back(why); });
  }
};

TEST(FaultInjector, DiesAfterTheNthWriteOfOneReconcile) {
  Recorder r;
  auto f = r.make("exit-after-writes:2:Topic");
  {
    auto s = f.reconciling("Topic");
    f.after_write("patch", "topics");
    EXPECT_TRUE(r.deaths.empty());
    f.after_write("create", "events");
  }
  ASSERT_EQ(r.deaths.size(), 1u);
  EXPECT_NE(r.deaths[0].find("create events"), std::string::npos) << r.deaths[0];
}

TEST(FaultInjector, CountsRestartWithEachReconcile) {
  Recorder r;
  auto f = r.make("exit-after-writes:2");
  for (int pass = 0; pass < 3; ++pass) {
    auto s = f.reconciling("Millrace");
    f.after_write("apply", "configmaps");
  }
  EXPECT_TRUE(r.deaths.empty());
}

TEST(FaultInjector, IgnoresOtherKindsAndWritesOutsideReconciles) {
  Recorder r;
  auto f = r.make("exit-after-writes:1:Topic");
  f.after_write("update", "leases");  // the leader election thread
  {
    auto s = f.reconciling("Millrace");
    f.after_write("apply", "statefulsets");
  }
  EXPECT_TRUE(r.deaths.empty());
}

TEST(FaultInjector, CountsPerThread) {
  Recorder r;
  auto f = r.make("exit-after-writes:2:Millrace");
  auto s = f.reconciling("Millrace");
  f.after_write("apply", "configmaps");
  std::thread other([&] {
    auto s2 = f.reconciling("Millrace");
    f.after_write("apply", "services");  // its own first write
  });
  other.join();
  EXPECT_TRUE(r.deaths.empty());
  f.after_write("apply", "services");
  EXPECT_EQ(r.deaths.size(), 1u);
}

TEST(FaultInjector, InertPlanNeverDies) {
  Recorder r;
  auto f = r.make("");
  auto s = f.reconciling("Topic");
  for (int i = 0; i < 50; ++i) f.after_write("patch", "topics");
  EXPECT_TRUE(r.deaths.empty());
}

}  // namespace
}  // namespace millrace::op
