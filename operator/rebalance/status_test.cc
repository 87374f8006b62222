#include "operator/rebalance/status.h"

#include <gtest/gtest.h>

#include "operator/conditions.h"

namespace millrace::op::rebalance {
namespace {

// 2022-01-01T00:00:00Z plus a fraction of a second: the status keeps seconds.
constexpr int64_t kT0 = 1640995200000;

Status rebalancing() {
  Status st;
  st.state = State::kRebalancing;
  st.observed_generation = 3;
  st.proposal_ms = kT0 + 250;
  st.proposal.replica_moves = 4;
  st.proposal.leader_moves = 1;
  st.proposal.bytes_to_move = 40 << 20;
  st.proposal.before = {{"replicas", 2, 9, 5.333333333, 5, 6, false}};
  st.proposal.after = {{"replicas", 5, 6, 5.333333333, 5, 6, true}};
  st.progress = {5, 2, 2, 40 << 20, 20 << 20, kT0 + 999, 7, {"t-3"}};
  st.message = "2 of 5 reassignments done, 2 in flight, 20 MiB left";
  return st;
}

StatusContext context() {
  StatusContext c;
  c.reassignments = 5;
  c.throttle_bytes_per_s = 10 << 20;
  c.plan_config_map = "r-plan";
  return c;
}

TEST(RebalanceStatus, RendersTheProposalProgressAndOneConditionForTheState) {
  json s = render_status(rebalancing(), context(), 3, json::object(), "2022-01-01T00:01:00Z");
  EXPECT_EQ(s["state"], "Rebalancing");
  EXPECT_EQ(s["observedGeneration"], 3);
  EXPECT_EQ(s["proposal"]["computedAt"], "2022-01-01T00:00:00Z");
  EXPECT_EQ(s["proposal"]["reassignments"], 5);
  EXPECT_EQ(s["proposal"]["replicaMoves"], 4);
  EXPECT_EQ(s["proposal"]["leaderMoves"], 1);
  EXPECT_EQ(s["proposal"]["bytesToMove"], 40 << 20);
  EXPECT_EQ(s["proposal"]["estimatedSeconds"], 4);  // 40 MiB at 10 MiB/s
  EXPECT_EQ(s["proposal"]["planConfigMap"], "r-plan");
  EXPECT_EQ(s["proposal"]["goals"][0]["goal"], "replicas");
  EXPECT_EQ(s["proposal"]["goals"][0]["before"]["max"], 9.0);
  EXPECT_EQ(s["proposal"]["goals"][0]["before"]["mean"], 5.333);
  EXPECT_EQ(s["proposal"]["goals"][0]["after"]["balanced"], true);
  EXPECT_EQ(s["progress"]["movesDone"], 2);
  EXPECT_EQ(s["progress"]["bytesLeft"], 20 << 20);
  EXPECT_EQ(s["progress"]["etaSeconds"], 7);
  EXPECT_EQ(s["progress"]["skipped"], json::array({"t-3"}));
  ASSERT_EQ(s["conditions"].size(), 1u);
  EXPECT_EQ(s["conditions"][0]["type"], "Rebalancing");
  EXPECT_EQ(s["conditions"][0]["status"], "True");
  EXPECT_EQ(s["conditions"][0]["reason"], "Rebalancing");
  EXPECT_EQ(s["conditions"][0]["message"], rebalancing().message);
}

TEST(RebalanceStatus, ReadBackAndRenderedAgainIsTheSameStatus) {
  // Planted: parse_status without bytesToMove fails this (the status would be rewritten each pass).
  json first = render_status(rebalancing(), context(), 3, json::object(), "2022-01-01T00:01:00Z");
  Status back = parse_status(first);
  EXPECT_EQ(back.state, State::kRebalancing);
  EXPECT_EQ(back.proposal_ms, kT0);  // seconds kept
  EXPECT_EQ(back.progress.started_ms, kT0);
  EXPECT_EQ(back.proposal.bytes_to_move, 40 << 20);
  json second = render_status(back, context(), 3, first, "2022-01-01T00:02:00Z");
  EXPECT_EQ(second, first);  // transition times kept too
}

TEST(RebalanceStatus, AStateChangeReplacesTheConditionAndKeepsTheTimeOfAnUnchangedOne) {
  json first = render_status(rebalancing(), context(), 3, json::object(), "2022-01-01T00:01:00Z");
  Status done = rebalancing();
  done.state = State::kReady;
  StatusContext c = context();
  c.reason = "Rebalanced";
  json second = render_status(done, c, 3, first, "2022-01-01T00:05:00Z");
  ASSERT_EQ(second["conditions"].size(), 1u);
  EXPECT_EQ(second["conditions"][0]["type"], "Ready");
  EXPECT_EQ(second["conditions"][0]["reason"], "Rebalanced");
  EXPECT_EQ(second["conditions"][0]["lastTransitionTime"], "2022-01-01T00:05:00Z");
  json third = render_status(done, c, 3, second, "2022-01-01T00:09:00Z");
  EXPECT_EQ(third["conditions"][0]["lastTransitionTime"], "2022-01-01T00:05:00Z");
}

TEST(RebalanceStatus, UnreachableBrokersAddAConditionBesideTheState) {
  StatusContext c = context();
  c.unreachable_reason = "BrokerUnavailable";
  c.unreachable_message = "no ready broker";
  json s = render_status(rebalancing(), c, 3, json::object(), "2022-01-01T00:01:00Z");
  ASSERT_EQ(s["conditions"].size(), 2u);
  EXPECT_EQ(s["conditions"][1]["type"], "ClusterReachable");
  EXPECT_EQ(s["conditions"][1]["status"], "False");
  EXPECT_EQ(s["conditions"][1]["reason"], "BrokerUnavailable");
  json again = render_status(rebalancing(), context(), 3, s, "2022-01-01T00:02:00Z");
  EXPECT_EQ(again["conditions"].size(), 1u);  // gone once they answer
}

TEST(RebalanceStatus, ANewResourceHasNoProposalOrProgress) {
  json s = render_status(Status{}, StatusContext{}, 1, json(), "2022-01-01T00:01:00Z");
  EXPECT_EQ(s["state"], "New");
  EXPECT_FALSE(s.contains("proposal"));
  EXPECT_FALSE(s.contains("progress"));
  EXPECT_EQ(parse_status(json()).state, State::kNew);
  EXPECT_EQ(parse_status(json{{"state", "Sideways"}}).state, State::kNew);
}

TEST(RebalanceStatus, NoThrottleMeansNoEstimate) {
  StatusContext c = context();
  c.throttle_bytes_per_s = 0;
  EXPECT_EQ(render_status(rebalancing(), c, 3, json(), "x")["proposal"]["estimatedSeconds"], -1);
  EXPECT_EQ(estimate_seconds(1, 10), 1);  // rounded up
  EXPECT_EQ(estimate_seconds(0, 10), 0);
}

TEST(RebalancePlanData, TheMovesRoundTripForTheirProposalOnly) {
  std::vector<planner::Reassignment> moves = {{"t", 0, {1, 2, 3}, {4, 2, 3}, 100}, {"u", 7, {1, 2}, {2, 1}, 0}};
  planner::Plan summary;
  summary.brokers_before = {{1, "a", 3, 2, 300, 0}, {4, "b", 0, 0, 0, 0}};
  summary.brokers_after = {{1, "a", 2, 1, 200, 0}, {4, "b", 1, 1, 100, 0}};
  json data = render_plan_data(moves, summary, kT0 + 5);
  auto back = parse_plan_data(data, kT0 + 700);  // same second: the same proposal
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].to, (std::vector<planner::BrokerId>{4, 2, 3}));
  EXPECT_EQ((*back)[0].bytes, 100);
  EXPECT_EQ((*back)[1].topic, "u");
  EXPECT_EQ((*back)[1].from, (std::vector<planner::BrokerId>{1, 2}));
  json brokers = json::parse(data["brokers.json"].get<std::string>());
  EXPECT_EQ(brokers[1]["after"]["replicas"], 1);
  // Another proposal's plan, or a damaged one, is a lost plan.
  EXPECT_FALSE(parse_plan_data(data, kT0 + 1000));
  json broken = data;
  broken["moves.json"] = "[{\"topic\":\"t\"}]";
  EXPECT_FALSE(parse_plan_data(broken, kT0));
  broken["moves.json"] = "not json";
  EXPECT_FALSE(parse_plan_data(broken, kT0));
}

TEST(RebalanceStatus, Rfc3339Parses) {
  EXPECT_EQ(parse_rfc3339_ms("2022-01-01T00:00:00Z"), kT0);
  EXPECT_EQ(parse_rfc3339_ms(rfc3339(1700000000)), 1700000000000);
  EXPECT_EQ(parse_rfc3339_ms("yesterday"), -1);
  EXPECT_EQ(parse_rfc3339_ms("2022-01-01T00:00:00Zjunk"), -1);
}

}  // namespace
}  // namespace millrace::op::rebalance
