#include "operator/leader_election.h"

#include <gtest/gtest.h>

namespace millrace::op {
namespace {

json lease_held_by(const std::string& holder) {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", "millrace-operator"}, {"namespace", "default"}, {"resourceVersion", "4711"}}},
          {"spec",
           {{"holderIdentity", holder},
            {"leaseDurationSeconds", 15},
            {"acquireTime", "2026-01-01T00:00:00.000000Z"},
            {"renewTime", "2026-01-01T00:00:10.000000Z"},
            {"leaseTransitions", 3}}}};
}

constexpr const char* kNow = "2026-01-01T00:00:11.000000Z";

TEST(ReleasedLease, ClearsTheHolderAndShortensTheDuration) {
  auto out = released_lease(lease_held_by("op-a"), "op-a", kNow);
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)["spec"]["holderIdentity"], "");
  EXPECT_EQ((*out)["spec"]["leaseDurationSeconds"], 1);
  EXPECT_EQ((*out)["spec"]["renewTime"], kNow);
  EXPECT_EQ((*out)["spec"]["acquireTime"], kNow);
}

TEST(ReleasedLease, KeepsTheResourceVersionPreconditionAndTransitions) {
  auto out = released_lease(lease_held_by("op-a"), "op-a", kNow);
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)["metadata"]["resourceVersion"], "4711");
  EXPECT_EQ((*out)["metadata"]["name"], "millrace-operator");
  EXPECT_EQ((*out)["spec"]["leaseTransitions"], 3);
}

TEST(ReleasedLease, NothingToReleaseWhenAnotherReplicaHoldsIt) {
  EXPECT_FALSE(released_lease(lease_held_by("op-b"), "op-a", kNow));
}

TEST(ReleasedLease, NothingToReleaseWhenAlreadyReleased) {
  EXPECT_FALSE(released_lease(lease_held_by(""), "op-a", kNow));
  EXPECT_FALSE(released_lease(lease_held_by(""), "", kNow));
}

TEST(ReleasedLease, NothingToReleaseWithoutARecord) {
  EXPECT_FALSE(released_lease(json(), "op-a", kNow));
  EXPECT_FALSE(released_lease(json::object(), "op-a", kNow));
  EXPECT_FALSE(released_lease(json{{"spec", "garbage"}}, "op-a", kNow));
}

TEST(LeaseMicroTime, IsRfc3339WithMicrosecondsInUtc) {
  auto t = lease_micro_time();
  ASSERT_EQ(t.size(), 27u) << t;
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t[19], '.');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace millrace::op
