// The topic table over the partition manager: partitions the reconciler
// creates are served at once, and a deleted topic's partitions are forgotten
// by the manager (their parked fetches woken) as the reconciler removes them.
#include "cluster/topics/partition_manager_host.h"

#include <gtest/gtest.h>

#include "cluster/topics/topic_controller.h"
#include "storage/test_util.h"

namespace millrace::cluster {
namespace {

class PartitionManagerHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::LogManagerOptions o;
    o.log_dirs = {dir_.path()};
    o.start_housekeeping = false;
    logs_ = std::move(storage::LogManager::open(o)).value();
    partitions_ = std::make_unique<PartitionManager>(*logs_, 1);
    host_ = std::make_unique<PartitionManagerHost>(*partitions_, *logs_);
    TopicControllerOptions co;
    co.dir = dir_.path();
    controller_ = std::make_unique<TopicController>(*host_, co);
    ASSERT_EQ(controller_->start(), "");
  }
  void TearDown() override {
    controller_.reset();
    partitions_.reset();
    (void)logs_->shutdown();
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::LogManager> logs_;
  std::unique_ptr<PartitionManager> partitions_;
  std::unique_ptr<PartitionManagerHost> host_;
  std::unique_ptr<TopicController> controller_;
};

TEST_F(PartitionManagerHostTest, CreatedPartitionsAreServedAndDeletedOnesForgotten) {
  TopicId id{};
  id[0] = 1;
  ASSERT_TRUE(controller_->execute(CreateTopic{"t", id, 2, {{"retention.ms", "1234"}}}, false).ok());
  auto p = partitions_->get({"t", 1});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->log(), logs_->get({"t", 1}));
  EXPECT_EQ(logs_->topic_config("t").retention_ms, 1234);
  const auto version = p->hw_waiters().version();
  ASSERT_TRUE(controller_->execute(DeleteTopic{"t", id}, false).ok());
  EXPECT_EQ(logs_->get({"t", 1}), nullptr);
  EXPECT_NE(p->hw_waiters().version(), version) << "the manager forgot the partition and woke its waiters";
  EXPECT_EQ(partitions_->get({"t", 1}), nullptr);
}

TEST_F(PartitionManagerHostTest, MissingPartitionIsOkToRemoveAndPresentOneIsAlreadyThere) {
  EXPECT_TRUE(host_->remove({"none", 0}).ok());
  ASSERT_TRUE(host_->create({"x", 0}, {}).ok());
  EXPECT_EQ(host_->create({"x", 0}, {}).code(), storage::Errc::kAlreadyExists);
  EXPECT_TRUE(host_->has({"x", 0}));
  EXPECT_EQ(host_->partitions().size(), 1u);
}

}  // namespace
}  // namespace millrace::cluster
