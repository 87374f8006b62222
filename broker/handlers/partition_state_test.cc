// partition_state.h: an offline partition (a stand-in for one that failed to
// load, or one whose log dir went offline) is reported as Kafka reports a
// partition whose only replica's dir is offline; an online one as led by this
// node; an absent one as unknown.
#include "broker/handlers/partition_state.h"

#include <gtest/gtest.h>

#include "storage/test_util.h"

namespace millrace::broker {
namespace {

constexpr int32_t kNode = 7;

// What the metadata image says of t-`p`: led by `leader` at `epoch`.
cluster::PartitionImage image(int32_t p, int32_t leader = kNode, int32_t epoch = 0,
                              std::vector<int32_t> replicas = {kNode}) {
  return {.index = p, .leader = leader, .leader_epoch = epoch, .replicas = replicas, .isr = replicas};
}

class PartitionStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::LogManagerOptions o;
    o.log_dirs = {dir_.path() / "a"};
    o.start_housekeeping = false;
    auto m = storage::LogManager::open(o);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    logs_ = std::move(*m);
    ASSERT_TRUE(logs_->create({"t", 0}).ok());
    ASSERT_TRUE(logs_->add_offline({"t", 1}, storage::Status(storage::Errc::kCorruptSegment, "planted")).ok());
  }
  storage::testing::TempDir dir_;
  std::unique_ptr<storage::LogManager> logs_;
};

TEST_F(PartitionStateTest, OnlinePartitionIsLedByThisNode) {
  auto r = report_partition(*logs_, kNode, image(0), "t");
  EXPECT_FALSE(r.offline);
  EXPECT_EQ(r.error_code, 0);
  EXPECT_EQ(r.leader_id, kNode);
  EXPECT_EQ(r.replica_nodes, std::vector<int32_t>{kNode});
  EXPECT_EQ(r.isr_nodes, std::vector<int32_t>{kNode});
  EXPECT_TRUE(r.offline_replicas.empty());
}

TEST_F(PartitionStateTest, OfflinePartitionHasNoLeaderAndListsTheReplicaOffline) {
  auto r = report_partition(*logs_, kNode, image(1), "t");
  EXPECT_TRUE(r.offline);
  EXPECT_EQ(r.error_code, proto::code(proto::ErrorCode::kLeaderNotAvailable));
  EXPECT_EQ(r.leader_id, -1);
  EXPECT_EQ(r.replica_nodes, std::vector<int32_t>{kNode});
  EXPECT_EQ(r.isr_nodes, std::vector<int32_t>{kNode});
  EXPECT_EQ(r.offline_replicas, std::vector<int32_t>{kNode});
}

TEST_F(PartitionStateTest, AbsentPartitionIsNotOffline) {
  EXPECT_FALSE(report_partition(*logs_, kNode, image(9), "t").offline);  // being created: not offline
}

// Leadership comes from the image, not from this node: another leader, an
// epoch, replicas and ISR are reported as the image has them; an offline local
// follower is listed offline without taking the leader away.
TEST_F(PartitionStateTest, LeadershipIsTheImagesAndTheOfflineOverlayOnlyTouchesTheLocalReplica) {
  auto r = report_partition(*logs_, kNode, image(0, 3, 12, {3, kNode}), "t");
  EXPECT_EQ(r.leader_id, 3);
  EXPECT_EQ(r.leader_epoch, 12);
  EXPECT_EQ(r.replica_nodes, (std::vector<int32_t>{3, kNode}));
  EXPECT_EQ(r.error_code, 0);
  auto f = report_partition(*logs_, kNode, image(1, 3, 12, {3, kNode}), "t");
  EXPECT_EQ(f.leader_id, 3);
  EXPECT_EQ(f.offline_replicas, std::vector<int32_t>{kNode});
  auto none = report_partition(*logs_, kNode, image(0, -1, 4), "t");
  EXPECT_EQ(none.leader_id, -1);
  EXPECT_EQ(none.error_code, proto::code(proto::ErrorCode::kLeaderNotAvailable));
}

}  // namespace
}  // namespace millrace::broker
