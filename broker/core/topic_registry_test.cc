#include "broker/core/topic_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace millrace::broker {
namespace {

class TopicRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("topic-registry-test-" + std::to_string(std::random_device{}()));
    open();
  }
  void TearDown() override {
    registry_.reset();
    if (logs_) (void)logs_->shutdown();
    logs_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    registry_.reset();
    if (logs_) (void)logs_->shutdown();
    storage::LogManagerOptions o;
    o.log_dirs = {dir_};
    o.start_housekeeping = false;
    auto r = storage::LogManager::open(o);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    logs_ = std::move(r).value();
    registry_ = std::make_unique<TopicRegistry>(*logs_, dir_ / "topics.json");
    ASSERT_EQ(registry_->load(), "");
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::LogManager> logs_;
  std::unique_ptr<TopicRegistry> registry_;
  std::string msg_;
};

TEST_F(TopicRegistryTest, CreateMakesEveryPartitionLog) {
  ASSERT_EQ(registry_->create("orders", 3, {{"retention.ms", "1000"}}, false, false, msg_), 0) << msg_;
  for (int p = 0; p < 3; ++p) EXPECT_NE(logs_->get({"orders", p}), nullptr);
  EXPECT_EQ(logs_->topic_config("orders").retention_ms, 1000);
}

TEST_F(TopicRegistryTest, DuplicateAndBadNamesAreRefused) {
  ASSERT_EQ(registry_->create("a", 1, {}, false, false, msg_), 0);
  EXPECT_EQ(registry_->create("a", 1, {}, false, false, msg_), 36);  // TOPIC_ALREADY_EXISTS
  EXPECT_EQ(registry_->create("bad/name", 1, {}, false, false, msg_), 17);
  EXPECT_NE(msg_.find("characters"), std::string::npos);
  EXPECT_EQ(registry_->create("..", 1, {}, false, false, msg_), 17);
  EXPECT_EQ(registry_->create("z", 0, {}, false, false, msg_), 37);  // INVALID_PARTITIONS
  EXPECT_EQ(registry_->create("c", 1, {{"retention.mss", "1"}}, false, false, msg_), 40);
  EXPECT_EQ(registry_->create("c", 1, {{"retention.ms", "soon"}}, false, false, msg_), 40);
}

TEST_F(TopicRegistryTest, ValidateOnlyCreatesNothing) {
  ASSERT_EQ(registry_->create("v", 2, {}, false, true, msg_), 0);
  EXPECT_FALSE(registry_->get("v"));
  EXPECT_EQ(logs_->get({"v", 0}), nullptr);
}

TEST_F(TopicRegistryTest, PartitionsOnlyGrow) {
  ASSERT_EQ(registry_->create("g", 2, {}, false, false, msg_), 0);
  EXPECT_EQ(registry_->add_partitions("g", 2, false, msg_), 37);
  EXPECT_EQ(registry_->add_partitions("g", 4, false, msg_), 0);
  EXPECT_EQ(registry_->get("g")->partitions, 4);
  EXPECT_NE(logs_->get({"g", 3}), nullptr);
}

TEST_F(TopicRegistryTest, TopicsAndConfigsSurviveRestart) {
  ASSERT_EQ(registry_->create("keep", 2, {}, false, false, msg_), 0);
  ASSERT_EQ(registry_->alter_configs("keep", {{"cleanup.policy", std::string("compact")}}, false, false, msg_), 0);
  auto id = registry_->get("keep")->id;
  open();
  auto t = registry_->get("keep");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->partitions, 2);
  EXPECT_EQ(t->id, id);
  EXPECT_EQ(t->configs.at("cleanup.policy"), "compact");
  EXPECT_TRUE(logs_->topic_config("keep").cleanup_compact);
}

TEST_F(TopicRegistryTest, DeleteRemovesLogs) {
  ASSERT_EQ(registry_->create("gone", 1, {}, false, false, msg_), 0);
  EXPECT_EQ(registry_->remove("gone", msg_), 0);
  EXPECT_FALSE(registry_->get("gone"));
  EXPECT_EQ(logs_->get({"gone", 0}), nullptr);
  EXPECT_EQ(registry_->remove("gone", msg_), 3);
}

TEST_F(TopicRegistryTest, CorruptFileIsAnErrorNotACrash) {
  registry_.reset();
  {
    std::ofstream out(dir_ / "topics.json");
    out << "{not json";
  }
  TopicRegistry r(*logs_, dir_ / "topics.json");
  EXPECT_NE(r.load().find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace millrace::broker
