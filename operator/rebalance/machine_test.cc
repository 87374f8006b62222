#include "operator/rebalance/machine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace millrace::op::rebalance {
namespace {

using planner::BrokerId;
using planner::Cluster;
using planner::Reassignment;

// 5 brokers, `n` partitions of RF 3 on brokers 1-3 only (a scale from 3 to 5).
Cluster three_of_five(int n) {
  Cluster c;
  for (BrokerId b = 1; b <= 5; ++b) c.brokers.push_back({b, ""});
  for (int i = 0; i < n; ++i) {
    planner::Partition p;
    p.topic = "t";
    p.partition = i;
    p.replicas = {1 + i % 3, 1 + (i + 1) % 3, 1 + (i + 2) % 3};
    p.bytes = 10 << 20;
    c.partitions.push_back(p);
  }
  return c;
}

Spec add_brokers(bool auto_approve = false) {
  Spec s;
  s.planner.mode = planner::Mode::kAddBrokers;
  s.planner.brokers = {4, 5};
  s.auto_approve = auto_approve;
  s.concurrent_moves = 2;
  return s;
}

// The world a Rebalance acts on: the cluster, the reassignments in flight, the
// stored plan and the status; each reconcile feeds the machine and applies its
// outputs, and the brokers finish every reassignment in flight one reconcile
// after it was submitted.
struct World {
  Cluster cluster;
  Spec spec;
  int64_t generation = 1;
  Status status;
  std::vector<Reassignment> stored;
  std::map<TopicPartition, std::vector<BrokerId>> flying;  // target replica lists
  std::set<TopicPartition> ever_submitted;
  std::set<TopicPartition> cancelled;
  int64_t now = 1000;
  std::optional<int64_t> throttle;
  std::vector<std::string> events;
  int max_receiving = 0;
  bool cancel_reorders = false;  // a cancel keeps the original brokers, not their order (KRaft's revert)

  Outputs reconcile(const std::string& annotation = "", bool brokers_finish = true) {
    if (brokers_finish) {
      for (auto& [tp, to] : flying)
        for (auto& p : cluster.partitions)
          if (p.topic == tp.first && p.partition == tp.second) p.replicas = to;
      flying.clear();
    }
    Inputs in;
    in.spec = spec;
    in.generation = generation;
    in.annotation = annotation;
    in.status = status;
    in.stored_plan = stored;
    in.cluster = cluster;
    for (auto& [tp, to] : flying) in.in_flight.insert(tp);
    in.now_ms = now += 5000;
    Outputs out = step(in);
    status = out.status;
    if (out.store_plan) stored = *out.store_plan;
    for (const Reassignment& m : out.submit) {
      const TopicPartition tp{m.topic, m.partition};
      EXPECT_FALSE(in.in_flight.count(tp)) << "submitted while in flight: " << m.topic << "-" << m.partition;
      flying[tp] = m.to;
      ever_submitted.insert(tp);
    }
    std::map<BrokerId, int> receiving;
    for (auto& [tp, to] : flying)
      for (const Reassignment& m : stored)
        if (m.topic == tp.first && m.partition == tp.second)
          for (BrokerId b : m.to)
            if (std::find(m.from.begin(), m.from.end(), b) == m.from.end())
              max_receiving = std::max(max_receiving, ++receiving[b]);
    for (const TopicPartition& tp : out.cancel) {
      EXPECT_TRUE(in.in_flight.count(tp)) << "cancelled while not in flight: " << tp.first << "-" << tp.second;
      flying.erase(tp);  // the brokers revert it: its replicas stay as they were
      cancelled.insert(tp);
      if (cancel_reorders)
        for (auto& p : cluster.partitions)
          if (p.topic == tp.first && p.partition == tp.second) std::reverse(p.replicas.begin(), p.replicas.end());
    }
    if (out.throttle) throttle = out.throttle;
    if (out.clear_throttle) throttle.reset();
    events.insert(events.end(), out.events.begin(), out.events.end());
    return out;
  }

  bool has_event(const std::string& prefix) const {
    return std::any_of(events.begin(), events.end(), [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
  }
};

TEST(Rebalance, ANewResourceGetsAProposalAndWaitsForApproval) {
  World w{three_of_five(30), add_brokers()};
  Outputs out = w.reconcile();
  EXPECT_EQ(w.status.state, State::kProposalReady);
  EXPECT_TRUE(out.submit.empty());
  ASSERT_TRUE(out.store_plan);
  EXPECT_FALSE(out.store_plan->empty());
  EXPECT_TRUE(w.status.proposal.moves.empty());  // the status carries the summary only
  EXPECT_GT(w.status.proposal.bytes_to_move, 0);
  EXPECT_TRUE(w.has_event("ProposalReady"));
  w.reconcile();  // nothing approved: nothing happens
  EXPECT_EQ(w.status.state, State::kProposalReady);
  EXPECT_TRUE(w.flying.empty());
}

TEST(Rebalance, ApprovedItMovesEverythingWithinTheConcurrencyCapAndEnds) {
  World w{three_of_five(30), add_brokers()};
  w.reconcile();
  Outputs out = w.reconcile("approve");
  EXPECT_TRUE(out.clear_annotation);
  EXPECT_EQ(w.status.state, State::kRebalancing);
  EXPECT_TRUE(w.throttle);
  for (int i = 0; i < 100 && w.status.state == State::kRebalancing; ++i) {
    w.reconcile();
    if (w.status.state == State::kRebalancing) {
      EXPECT_TRUE(w.throttle);
      EXPECT_GE(w.status.progress.eta_seconds, 0);
    }
  }
  ASSERT_EQ(w.status.state, State::kReady) << w.status.message;
  EXPECT_FALSE(w.throttle);
  EXPECT_LE(w.max_receiving, 2);
  EXPECT_EQ(w.status.progress.moves_done, w.status.progress.moves_total);
  EXPECT_EQ(w.status.progress.bytes_left, 0);
  EXPECT_TRUE(w.has_event("RebalanceFinished"));
  // Balanced: a refresh proposes nothing.
  w.reconcile("refresh");
  EXPECT_EQ(w.status.state, State::kReady);
  EXPECT_EQ(w.status.message, "balanced: no move needed");
}

TEST(Rebalance, AutoApproveStartsAtOnce) {
  World w{three_of_five(12), add_brokers(true)};
  Outputs out = w.reconcile();
  EXPECT_EQ(w.status.state, State::kRebalancing);
  EXPECT_FALSE(out.submit.empty());
}

// Planted: a stop that cancels nothing (Strimzi's "let the batch finish") fails this.
TEST(Rebalance, StopCancelsTheMovesInFlightThenApproveResumesFromWhereItStopped) {
  World w{three_of_five(30), add_brokers(true)};
  w.reconcile();
  w.reconcile();
  const size_t before_stop = w.ever_submitted.size();
  const auto in_flight = w.flying;
  ASSERT_FALSE(in_flight.empty());
  const auto replicas_before = w.cluster.partitions;
  w.reconcile("stop", /*brokers_finish=*/false);
  EXPECT_EQ(w.status.state, State::kStopped);
  EXPECT_NE(w.status.message.find("stopping:"), std::string::npos) << w.status.message;
  // Every move of the plan in flight is cancelled, nothing else.
  std::set<TopicPartition> expected;
  for (const auto& [tp, to] : in_flight) expected.insert(tp);
  EXPECT_EQ(w.cancelled, expected);
  EXPECT_TRUE(w.flying.empty());
  EXPECT_EQ(w.ever_submitted.size(), before_stop);
  w.reconcile();  // nothing listed any more
  for (size_t i = 0; i < replicas_before.size(); ++i)  // cancelled moves reverted: replicas unchanged
    EXPECT_EQ(w.cluster.partitions[i].replicas, replicas_before[i].replicas) << i;
  EXPECT_EQ(w.status.state, State::kStopped);
  EXPECT_NE(w.status.message.find("stopped:"), std::string::npos) << w.status.message;
  EXPECT_FALSE(w.throttle);
  EXPECT_EQ(w.ever_submitted.size(), before_stop);
  const int done = w.status.progress.moves_done;
  EXPECT_GT(done, 0);
  EXPECT_LT(done, w.status.progress.moves_total);
  // Approve: a new plan from where it stopped, then to the end.
  std::set<TopicPartition> moved_before = w.ever_submitted;
  w.reconcile("approve");
  for (int i = 0; i < 100 && w.status.state == State::kRebalancing; ++i) w.reconcile();
  EXPECT_EQ(w.status.state, State::kReady);
  EXPECT_EQ(planner::plan(w.cluster, w.spec.planner).replica_moves, 0);
}

// A cancel brings a move back to its original brokers, in KRaft not always in
// their order: stopped, such a move is left undone, not "skipped (moved by
// someone else)" (seen in the operator suite before this was known).
TEST(Rebalance, AStoppedMoveBackOnItsBrokersInAnotherOrderIsNotSkipped) {
  World w{three_of_five(30), add_brokers(true)};
  w.cancel_reorders = true;
  w.reconcile();
  w.reconcile();
  ASSERT_FALSE(w.flying.empty());
  w.reconcile("stop", /*brokers_finish=*/false);
  w.reconcile();
  EXPECT_EQ(w.status.state, State::kStopped);
  EXPECT_FALSE(w.cancelled.empty());
  EXPECT_TRUE(w.status.progress.skipped.empty()) << w.status.message;
  EXPECT_EQ(w.status.message.find("skipped"), std::string::npos) << w.status.message;
  EXPECT_LT(w.status.progress.moves_done, w.status.progress.moves_total);
}

TEST(Rebalance, AnOperatorRestartMidwayResumesFromTheStoredPlanAndTheBrokersState) {
  World w{three_of_five(30), add_brokers(true)};
  w.reconcile();
  w.reconcile("", /*brokers_finish=*/false);
  // A new process: nothing but the stored status, the stored plan, and what the
  // brokers report. World::reconcile checks no partition is submitted while in flight.
  World again{w.cluster, w.spec, w.generation, w.status, w.stored, w.flying};
  for (int i = 0; i < 100 && again.status.state == State::kRebalancing; ++i) again.reconcile();
  EXPECT_EQ(again.status.state, State::kReady);
  ASSERT_FALSE(w.ever_submitted.empty());
  for (const TopicPartition& tp : again.ever_submitted)
    EXPECT_FALSE(w.ever_submitted.count(tp)) << "moved twice: " << tp.first << "-" << tp.second;
}

TEST(Rebalance, APartitionMovedBySomeoneElseIsSkippedAndNamed) {
  World w{three_of_five(6), add_brokers()};
  w.reconcile();
  ASSERT_FALSE(w.stored.empty());
  const Reassignment m = w.stored.front();
  for (auto& p : w.cluster.partitions)
    if (p.topic == m.topic && p.partition == m.partition) std::swap(p.replicas[1], p.replicas[2]);
  w.reconcile("approve");
  for (int i = 0; i < 50 && w.status.state == State::kRebalancing; ++i) w.reconcile();
  // Approval recomputed the plan from the cluster as it was: nothing to skip.
  EXPECT_EQ(w.status.state, State::kReady);
  EXPECT_TRUE(w.status.progress.skipped.empty());
  // Changed after approval: skipped.
  World v{three_of_five(6), add_brokers(true)};
  v.reconcile("", false);
  const Reassignment pending = *std::find_if(v.stored.begin(), v.stored.end(), [&](const Reassignment& r) {
    return !v.flying.count({r.topic, r.partition});
  });
  for (auto& p : v.cluster.partitions)
    if (p.topic == pending.topic && p.partition == pending.partition) std::swap(p.replicas[0], p.replicas[1]);
  for (int i = 0; i < 50 && v.status.state == State::kRebalancing; ++i) v.reconcile();
  EXPECT_EQ(v.status.state, State::kReady);
  ASSERT_EQ(v.status.progress.skipped.size(), 1u);
  EXPECT_EQ(v.status.progress.skipped[0], pending.topic + "-" + std::to_string(pending.partition));
  EXPECT_NE(v.status.message.find("skipped"), std::string::npos);
}

TEST(Rebalance, AnInfeasiblePlanIsNotReadyAndSaysWhy) {
  World w{three_of_five(3), {}};
  w.spec.planner.mode = planner::Mode::kRemoveBrokers;
  w.spec.planner.brokers = {1, 2, 3};  // RF 3 on the 2 brokers left
  w.reconcile();
  EXPECT_EQ(w.status.state, State::kNotReady);
  EXPECT_NE(w.status.message.find("cannot drain broker"), std::string::npos) << w.status.message;
  EXPECT_TRUE(w.has_event("ProposalInfeasible"));
}

// A NotReady Rebalance plans again by itself once a minute (its requeue): while
// the cause holds nothing is written (the same status, no event); once it is gone (the
// topic's replication factor lowered to what the brokers left can hold) it
// goes on, so a held scale-down drains without anyone touching it.
TEST(Rebalance, ANotReadyRebalancePlansAgainByItselfOnceTheCauseIsGone) {
  World w{three_of_five(3), {}};
  w.spec.planner.mode = planner::Mode::kRemoveBrokers;
  w.spec.planner.brokers = {3, 4, 5};  // RF 3 on the 2 brokers left
  w.spec.auto_approve = true;
  w.reconcile();
  ASSERT_EQ(w.status.state, State::kNotReady);
  const Status stuck = w.status;
  const size_t events = w.events.size();
  Outputs soon = w.reconcile();  // 5 s later
  EXPECT_EQ(soon.requeue_after_ms, 55000) << "asks to be looked at again when a minute has passed";
  w.now += 60000;
  Outputs later = w.reconcile();  // a minute on, the cause still there
  EXPECT_EQ(w.status.proposal_ms, stuck.proposal_ms) << "an unchanged NotReady was written again";
  EXPECT_EQ(w.status.message, stuck.message);
  EXPECT_EQ(w.events.size(), events) << "an unchanged NotReady made an event";
  EXPECT_EQ(later.requeue_after_ms, 60000);
  for (auto& p : w.cluster.partitions) p.replicas.pop_back();  // RF 2 now: brokers 1 and 2 can hold it
  w.now += 55000;  // the requeue asked for
  w.reconcile();
  EXPECT_NE(w.status.state, State::kNotReady) << w.status.message;
  EXPECT_TRUE(w.has_event("Replanned")) << "no event says why it went on";
  for (int i = 0; i < 20 && w.status.state == State::kRebalancing; ++i) w.reconcile();
  EXPECT_EQ(w.status.state, State::kReady) << w.status.message;
  for (const auto& p : w.cluster.partitions)
    for (BrokerId b : p.replicas) EXPECT_LE(b, 2) << p.topic << "-" << p.partition << " still on broker " << b;
}

TEST(Rebalance, ABalancedClusterIsReadyAtOnce) {
  Cluster c = three_of_five(3);
  c.brokers.resize(3);
  World w{c, {}};
  w.reconcile();
  EXPECT_EQ(w.status.state, State::kReady);
  EXPECT_EQ(w.status.message, "balanced: no move needed");
}

TEST(Rebalance, ASpecChangeMakesANewProposal) {
  World w{three_of_five(30), add_brokers()};
  w.reconcile();
  const int64_t first = w.status.proposal_ms;
  w.generation = 2;
  w.spec.planner.brokers = {4};
  w.reconcile();
  EXPECT_EQ(w.status.state, State::kProposalReady);
  EXPECT_GT(w.status.proposal_ms, first);
  EXPECT_EQ(w.status.observed_generation, 2);
  for (const Reassignment& m : w.stored)
    for (BrokerId b : m.to)
      if (std::find(m.from.begin(), m.from.end(), b) == m.from.end()) {
        EXPECT_EQ(b, 4);
      }
}

TEST(Rebalance, RefreshWhileRebalancingIsIgnoredAndUnknownAnnotationsAreCleared) {
  World w{three_of_five(30), add_brokers(true)};
  w.reconcile();
  Outputs out = w.reconcile("refresh");
  EXPECT_TRUE(out.clear_annotation);
  EXPECT_EQ(w.status.state, State::kRebalancing);
  EXPECT_TRUE(w.has_event("IgnoredAnnotation"));
  out = w.reconcile("aprove");
  EXPECT_TRUE(out.clear_annotation);
  EXPECT_TRUE(w.has_event("UnknownAnnotation: millrace.io/rebalance=aprove"));
}

TEST(Rebalance, ALostPlanIsRecomputedNotTakenForDone) {
  World w{three_of_five(30), add_brokers(true)};
  w.reconcile();
  w.stored.clear();
  w.reconcile();
  EXPECT_TRUE(w.has_event("PlanLost"));
  EXPECT_EQ(w.status.state, State::kRebalancing);
  EXPECT_FALSE(w.stored.empty());
}

TEST(Rebalance, StateNamesRoundTrip) {
  for (State s : {State::kNew, State::kProposalReady, State::kRebalancing, State::kStopped, State::kReady,
                  State::kNotReady})
    EXPECT_EQ(state_from(to_string(s)), s);
  EXPECT_FALSE(state_from("Rebalanced"));
}

}  // namespace
}  // namespace millrace::op::rebalance
