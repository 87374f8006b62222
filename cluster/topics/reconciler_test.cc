#include "cluster/topics/reconciler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>

#include "cluster/topics/fake_partition_host.h"

namespace millrace::cluster {
namespace {

namespace fs = std::filesystem;

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("topic-reconciler-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    rec_ = std::make_unique<TopicReconciler>(host_, dir_);
    rec_->start(0);
  }
  void TearDown() override {
    rec_.reset();
    fs::remove_all(dir_);
  }
  // Enqueues and waits for the completion.
  TopicError run(int64_t offset, TopicDelta d) {
    std::promise<TopicError> p;
    rec_->enqueue(offset, std::move(d), [&p](TopicError e) { p.set_value(std::move(e)); });
    return p.get_future().get();
  }
  static TopicDelta create(std::string topic, std::vector<int32_t> parts, bool new_topic = true,
                           std::map<std::string, std::string> configs = {}) {
    TopicDelta d;
    d.topic = std::move(topic);
    d.new_topic = new_topic;
    d.created = std::move(parts);
    d.configs = std::move(configs);
    return d;
  }
  std::optional<int64_t> mark() { return *rec_->read_mark(); }

  fs::path dir_;
  FakePartitionHost host_;
  std::unique_ptr<TopicReconciler> rec_;
};

TEST_F(ReconcilerTest, CreatesEveryPartitionWithTheTopicsConfigsOffTheCallersThread) {
  ASSERT_TRUE(run(1, create("t", {0, 1, 2}, true, {{"retention.ms", "5"}})).ok());
  for (int p = 0; p < 3; ++p) EXPECT_TRUE(host_.online("t", p));
  EXPECT_EQ(host_.configs("t").at("retention.ms"), "5");
  EXPECT_EQ(host_.threads.size(), 1u);
  EXPECT_EQ(host_.threads.count(std::this_thread::get_id()), 0u);
  EXPECT_EQ(mark(), 1);
  EXPECT_EQ(rec_->reconciled_offset(), 1);
}

TEST_F(ReconcilerTest, PartitionsThatExistAlreadyAreFine) {
  ASSERT_TRUE(host_.create({"t", 0}, {}).ok());
  EXPECT_TRUE(run(1, create("t", {0, 1})).ok());
  EXPECT_TRUE(host_.online("t", 1));
}

TEST_F(ReconcilerTest, RemovesPartitions) {
  ASSERT_TRUE(run(1, create("t", {0, 1})).ok());
  TopicDelta d;
  d.topic = "t";
  d.removed = {0, 1};
  ASSERT_TRUE(run(2, d).ok());
  EXPECT_TRUE(host_.parts.empty());
  EXPECT_EQ(mark(), 2);
}

TEST_F(ReconcilerTest, ConfigChangeReachesThePartitionsAndNeedsNoMark) {
  ASSERT_TRUE(run(1, create("t", {0})).ok());
  TopicDelta d;
  d.topic = "t";
  d.configs = std::map<std::string, std::string>{{"cleanup.policy", "compact"}};
  ASSERT_TRUE(run(2, d).ok());
  EXPECT_EQ(host_.configs("t").at("cleanup.policy"), "compact");
  EXPECT_EQ(rec_->reconciled_offset(), 2);
  EXPECT_EQ(mark(), 1);  // nothing a restart would have to redo
  host_.fail_configs = true;
  auto e = run(3, d);
  EXPECT_EQ(e.code, 40);  // INVALID_CONFIG
  EXPECT_EQ(e.message, "refused");
}

TEST_F(ReconcilerTest, FailedCreateOfANewTopicRemovesWhatItMadeAndTellsTheWaiter) {
  host_.fail_create = {{"t", 1}};
  auto e = run(1, create("t", {0, 1, 2}));
  EXPECT_EQ(e.code, 56);  // KAFKA_STORAGE_ERROR
  EXPECT_NE(e.message.find("disk on fire: t-1"), std::string::npos) << e.message;
  EXPECT_TRUE(host_.parts.empty());
  EXPECT_EQ(host_.calls, (std::vector<std::string>{"create t-0", "create t-1", "remove t-0"}));
}

TEST_F(ReconcilerTest, FailedAddedPartitionsAreOfflineAsTheTableListsThem) {
  ASSERT_TRUE(run(1, create("t", {0})).ok());
  host_.fail_create = {{"t", 2}};
  auto e = run(2, create("t", {1, 2, 3}, false));
  EXPECT_EQ(e.code, 56);
  EXPECT_TRUE(host_.online("t", 0));
  EXPECT_TRUE(host_.online("t", 1));
  EXPECT_TRUE(host_.offline("t", 2));
  EXPECT_TRUE(host_.offline("t", 3));
}

TEST_F(ReconcilerTest, CompletesInCommandOrder) {
  std::mutex mu;
  std::vector<int64_t> order;
  std::promise<void> last;  // all 20 done
  host_.create_delay["t1"] = std::chrono::milliseconds(50);  // a slow first command still completes first
  for (int64_t o = 1; o <= 20; ++o)
    rec_->enqueue(o, create("t" + std::to_string(o), {0}), [&, o](TopicError) {
      std::lock_guard l(mu);
      order.push_back(o);
      if (order.size() == 20) last.set_value();
    });
  last.get_future().get();
  for (int64_t o = 1; o <= 20; ++o) EXPECT_EQ(order[o - 1], o);
  EXPECT_EQ(mark(), 20);
}

TEST_F(ReconcilerTest, MarkIsFramedAndADamagedOneIsAnError) {
  EXPECT_EQ(mark(), std::nullopt);
  ASSERT_TRUE(rec_->write_mark(42).ok());
  EXPECT_EQ(mark(), 42);
  auto file = dir_ / TopicReconciler::kMarkName;
  std::vector<uint8_t> bytes(fs::file_size(file));
  {
    std::ifstream in(file, std::ios::binary);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  ASSERT_EQ(bytes.size(), 13u);
  EXPECT_EQ(bytes[0], TopicReconciler::kMarkVersion);
  bytes[8] ^= 1;
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  auto r = rec_->read_mark();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("checksum mismatch"), std::string::npos);
}

TEST_F(ReconcilerTest, AfterStopTheWaiterHearsAnErrorAtOnce) {
  rec_->stop();
  auto e = run(1, create("t", {0}));
  EXPECT_EQ(e.code, 56);
  EXPECT_TRUE(host_.parts.empty());
}

}  // namespace
}  // namespace millrace::cluster
