#include "cluster/placement/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace millrace::cluster {
namespace {

std::vector<PlacementBroker> cluster(int n, int racks) {
  std::vector<PlacementBroker> out;
  for (int i = 0; i < n; ++i) {
    PlacementBroker b;
    b.id = i + 1;
    if (racks > 0) b.rack = "rack-" + std::string(1, static_cast<char>('a' + i % racks));
    out.push_back(b);
  }
  return out;
}

std::map<int32_t, int> count(const Placement& p, bool leaders_only) {
  std::map<int32_t, int> out;
  for (const auto& r : p.replicas)
    for (size_t i = 0; i < (leaders_only ? 1 : r.size()); ++i) ++out[r[i]];
  return out;
}

TEST(Placement, MoreReplicasThanLiveBrokersIsRefusedWithKafkasMessage) {
  auto b = cluster(3, 0);
  b[2].fenced = true;
  auto p = place_replicas(b, 0, 4, 3);
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.error, "Replication factor: 3 larger than available brokers: 2.");
  EXPECT_FALSE(place_replicas(b, 0, 1, 0).ok());
  EXPECT_TRUE(place_replicas(b, 0, 4, 2).ok());
}

TEST(Placement, ThreeRacksThreeReplicasEachOnItsOwnRackAndEvenlySpread) {
  auto p = place_replicas(cluster(6, 3), 0, 12, 3);
  ASSERT_TRUE(p.ok());
  std::map<int32_t, std::string> rack_of;
  for (const auto& b : cluster(6, 3)) rack_of[b.id] = *b.rack;
  for (const auto& r : p.replicas) {
    ASSERT_EQ(r.size(), 3u);
    std::set<std::string> racks;
    for (int32_t id : r) racks.insert(rack_of[id]);
    EXPECT_EQ(racks.size(), 3u);
  }
  for (const auto& [id, n] : count(p, true)) EXPECT_EQ(n, 2) << "leaders on broker " << id;
  for (const auto& [id, n] : count(p, false)) EXPECT_EQ(n, 6) << "replicas on broker " << id;
}

TEST(Placement, AnUnevenRackStillGetsAReplicaOfEveryPartition) {
  auto b = cluster(4, 0);
  for (int i = 0; i < 3; ++i) b[i].rack = "big";
  b[3].rack = "small";
  auto p = place_replicas(b, 0, 8, 2);
  ASSERT_TRUE(p.ok());
  for (const auto& r : p.replicas)
    EXPECT_TRUE(std::find(r.begin(), r.end(), 4) != r.end()) << "every partition spans both racks";
}

TEST(Placement, AddedPartitionsContinueTheTopicsStripe) {
  auto b = cluster(5, 2);
  auto all = place_replicas(b, 0, 20, 3);
  auto first = place_replicas(b, 0, 8, 3);
  auto added = place_replicas(b, 8, 12, 3);
  ASSERT_TRUE(all.ok() && first.ok() && added.ok());
  auto joined = first.replicas;
  joined.insert(joined.end(), added.replicas.begin(), added.replicas.end());
  EXPECT_EQ(joined, all.replicas);
}

TEST(Placement, LeastLoadedBrokersComeFirstWithinARack) {
  auto b = cluster(3, 0);
  b[0].replicas = 10;  // broker 1 is full of replicas already
  auto p = place_replicas(b, 0, 1, 1);
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p.replicas[0][0], 1);
}

// Generated clusters: whatever the shape, the rules hold.
TEST(Placement, GeneratedClustersKeepEveryRule) {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    int n = 1 + static_cast<int>(rng() % 9);
    int racks = static_cast<int>(rng() % 5);
    auto b = cluster(n, racks);
    for (auto& x : b) {
      x.fenced = rng() % 5 == 0;
      x.replicas = static_cast<int32_t>(rng() % 4);
      if (rng() % 7 == 0) x.rack.reset();
    }
    int live = static_cast<int>(std::count_if(b.begin(), b.end(), [](const auto& x) { return !x.fenced; }));
    int16_t rf = static_cast<int16_t>(1 + rng() % 4);
    int32_t first = static_cast<int32_t>(rng() % 10), parts = static_cast<int32_t>(1 + rng() % 40);
    auto p = place_replicas(b, first, parts, rf);
    ASSERT_EQ(p.ok(), rf <= live) << "n " << n << " live " << live << " rf " << rf;
    if (!p.ok()) continue;
    ASSERT_EQ(p.replicas.size(), static_cast<size_t>(parts));
    std::map<int32_t, const PlacementBroker*> by_id;
    std::set<std::string> live_racks;
    for (const auto& x : b) {
      by_id[x.id] = &x;
      if (!x.fenced) live_racks.insert(x.rack.value_or(""));
    }
    for (const auto& r : p.replicas) {
      ASSERT_EQ(r.size(), static_cast<size_t>(rf));
      std::set<int32_t> distinct(r.begin(), r.end());
      ASSERT_EQ(distinct.size(), r.size()) << "a broker twice in one partition";
      std::set<std::string> racks;
      for (int32_t id : r) {
        ASSERT_FALSE(by_id.at(id)->fenced) << "a fenced broker chosen";
        racks.insert(by_id.at(id)->rack.value_or(""));
      }
      EXPECT_EQ(racks.size(), std::min<size_t>(live_racks.size(), r.size())) << "racks not spread";
    }
    // Leaders round the live brokers: no broker leads two more than another.
    auto leaders = count(p, true);
    int lo = parts, hi = 0;
    for (const auto& x : b)
      if (!x.fenced) {
        lo = std::min(lo, leaders[x.id]);
        hi = std::max(hi, leaders[x.id]);
      }
    EXPECT_LE(hi - lo, 1) << "leaders uneven";
  }
}

}  // namespace
}  // namespace millrace::cluster
