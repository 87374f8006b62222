#include "operator/rebalance/spec.h"

#include <gtest/gtest.h>

namespace millrace::op::rebalance {
namespace {

json rebalance(json spec) {
  return {{"apiVersion", "millrace.io/v1alpha1"}, {"kind", "Rebalance"}, {"metadata", {{"name", "r"}}}, {"spec", spec}};
}

std::string error_of(json spec) { return parse_spec(rebalance(std::move(spec))).error; }

TEST(RebalanceSpec, AFullRebalanceWithDefaults) {
  ParsedSpec p = parse_spec(rebalance({{"cluster", "demo"}}));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.cluster, "demo");
  EXPECT_EQ(p.spec.planner.mode, planner::Mode::kFull);
  EXPECT_TRUE(p.spec.planner.brokers.empty());
  EXPECT_FALSE(p.spec.auto_approve);
  EXPECT_EQ(p.spec.concurrent_moves, 5);
  EXPECT_DOUBLE_EQ(p.spec.planner.band, 0.10);
  EXPECT_EQ(p.spec.planner.count_tolerance, 0);
  EXPECT_EQ(p.spec.throttle_bytes_per_s, 0);  // the brokers' rate, filled in by the reconciler
}

TEST(RebalanceSpec, EveryFieldIsRead) {
  ParsedSpec p = parse_spec(rebalance({{"cluster", "demo"},
                                       {"mode", "remove-brokers"},
                                       {"brokers", {4, 5}},
                                       {"autoApprove", true},
                                       {"concurrentMoves", 2},
                                       {"goals", {{"band", 0.2}, {"countTolerance", 1}}},
                                       {"excludedTopics", {"keep"}}}));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.spec.planner.mode, planner::Mode::kRemoveBrokers);
  EXPECT_EQ(p.spec.planner.brokers, (std::set<planner::BrokerId>{4, 5}));
  EXPECT_TRUE(p.spec.auto_approve);
  EXPECT_EQ(p.spec.concurrent_moves, 2);
  EXPECT_DOUBLE_EQ(p.spec.planner.band, 0.2);
  EXPECT_EQ(p.spec.planner.count_tolerance, 1);
  EXPECT_EQ(p.spec.planner.excluded_topics, (std::set<std::string>{"keep"}));
}

TEST(RebalanceSpec, NoSpecOrNoClusterNamesTheField) {
  EXPECT_EQ(parse_spec({{"kind", "Rebalance"}}).error, "spec: required (an object)");
  EXPECT_EQ(error_of(json::object()).rfind("spec.cluster:", 0), 0u);
  EXPECT_EQ(error_of({{"cluster", ""}}).rfind("spec.cluster:", 0), 0u);
  EXPECT_EQ(error_of({{"cluster", 3}}).rfind("spec.cluster:", 0), 0u);
}

TEST(RebalanceSpec, AnUnknownModeNamesIt) {
  EXPECT_EQ(error_of({{"cluster", "c"}, {"mode", "remove-disks"}}),
            "spec.mode: \"remove-disks\" is not full, add-brokers or remove-brokers");
}

TEST(RebalanceSpec, BrokersOnlyWithAddOrRemoveAndRequiredThere) {
  EXPECT_EQ(error_of({{"cluster", "c"}, {"brokers", {1}}}).rfind("spec.brokers: only with mode", 0), 0u);
  EXPECT_EQ(error_of({{"cluster", "c"}, {"mode", "add-brokers"}}), "spec.brokers: required with mode add-brokers");
  EXPECT_EQ(error_of({{"cluster", "c"}, {"mode", "remove-brokers"}, {"brokers", json::array()}}),
            "spec.brokers: required with mode remove-brokers");
}

TEST(RebalanceSpec, ABadBrokerIdNamesItsIndex) {
  EXPECT_EQ(error_of({{"cluster", "c"}, {"mode", "add-brokers"}, {"brokers", {4, -1}}}),
            "spec.brokers[1]: -1 is not a broker id");
  EXPECT_EQ(error_of({{"cluster", "c"}, {"mode", "add-brokers"}, {"brokers", {4, "5"}}}),
            "spec.brokers[1]: \"5\" is not a broker id");
  EXPECT_EQ(error_of({{"cluster", "c"}, {"mode", "add-brokers"}, {"brokers", {4, 4}}}),
            "spec.brokers[1]: broker 4 twice");
  EXPECT_EQ(error_of({{"cluster", "c"}, {"mode", "add-brokers"}, {"brokers", {4294967296LL}}}),
            "spec.brokers[0]: 4294967296 is not a broker id");
}

TEST(RebalanceSpec, BandsAndCapsOutOfRangeNameTheirField) {
  EXPECT_EQ(error_of({{"cluster", "c"}, {"goals", {{"band", 0}}}}).rfind("spec.goals.band:", 0), 0u);
  EXPECT_EQ(error_of({{"cluster", "c"}, {"goals", {{"band", 1.5}}}}).rfind("spec.goals.band:", 0), 0u);
  EXPECT_EQ(error_of({{"cluster", "c"}, {"goals", {{"countTolerance", -1}}}}).rfind("spec.goals.countTolerance:", 0),
            0u);
  EXPECT_EQ(error_of({{"cluster", "c"}, {"concurrentMoves", 0}}).rfind("spec.concurrentMoves:", 0), 0u);
  EXPECT_EQ(error_of({{"cluster", "c"}, {"autoApprove", "yes"}}), "spec.autoApprove: must be true or false");
  EXPECT_EQ(error_of({{"cluster", "c"}, {"excludedTopics", {""}}}).rfind("spec.excludedTopics[0]:", 0), 0u);
}

json annotated(json annotations) {
  json o = rebalance({{"cluster", "c"}});
  o["metadata"]["annotations"] = std::move(annotations);
  return o;
}

TEST(RebalanceSpec, TheAnnotationsSayWhatIsAsked) {
  EXPECT_EQ(requested_action(rebalance({{"cluster", "c"}})), "");
  EXPECT_EQ(requested_action(annotated({{"millrace.io/rebalance", "approve"}})), "approve");
  EXPECT_EQ(requested_action(annotated({{"millrace.io/rebalance", "stop"}})), "stop");
  EXPECT_EQ(requested_action(annotated({{"millrace.io/rebalance", "refresh"}})), "refresh");
  EXPECT_EQ(requested_action(annotated({{"millrace.io/rebalance-approve", "true"}})), "approve");
  EXPECT_EQ(requested_action(annotated({{"millrace.io/rebalance-approve", "false"}})),
            "millrace.io/rebalance-approve=false");  // unknown: the machine reports it and it is removed
  // Both: the general annotation is the newer request's place; it wins.
  EXPECT_EQ(requested_action(annotated({{"millrace.io/rebalance-approve", "true"}, {"millrace.io/rebalance", "stop"}})),
            "stop");
  EXPECT_EQ(requested_action(annotated({{"millrace.io/rebalance", "please"}})), "please");
}

}  // namespace
}  // namespace millrace::op::rebalance
