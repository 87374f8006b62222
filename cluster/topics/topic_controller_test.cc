#include "cluster/topics/topic_controller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "cluster/topics/fake_partition_host.h"
#include "storage/checkpoint.h"

namespace millrace::cluster {
namespace {

namespace fs = std::filesystem;

TopicId id_of(uint8_t b) {
  TopicId id{};
  id.fill(b);
  return id;
}

class TopicControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("topic-controller-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    c_.reset();
    fs::remove_all(dir_);
  }
  // (Re)starts the controller over the same directory and host.
  std::string start(int64_t snapshot_after_records = 1000) {
    c_.reset();
    TopicControllerOptions o;
    o.dir = dir_;
    o.legacy_file = dir_ / "topics.json";
    o.snapshot_after_records = snapshot_after_records;
    c_ = std::make_unique<TopicController>(host_, o);
    return c_->start();
  }
  TopicError run(TopicCommand cmd, bool validate_only = false) { return c_->execute(std::move(cmd), validate_only); }
  std::optional<TopicInfo> published(const std::string& name) {
    auto t = c_->topics();
    auto it = t->find(name);
    return it == t->end() ? std::nullopt : std::optional<TopicInfo>(it->second);
  }

  fs::path dir_;
  FakePartitionHost host_;
  std::unique_ptr<TopicController> c_;
};

TEST_F(TopicControllerTest, CreateCompletesOnceItsPartitionsExistAndTheTableIsPublished) {
  ASSERT_EQ(start(), "");
  std::promise<void> done;
  bool seen = false;
  c_->submit(CreateTopic{"t", id_of(1), 2, {{"retention.ms", "9"}}}, false, [&](TopicError e) {
    EXPECT_TRUE(e.ok()) << e.message;
    seen = host_.online("t", 0) && host_.online("t", 1) && published("t").has_value();
    done.set_value();
  });
  done.get_future().get();
  EXPECT_TRUE(seen);
  EXPECT_EQ(published("t")->configs.at("retention.ms"), "9");
  EXPECT_EQ(host_.configs("t").at("retention.ms"), "9");
  EXPECT_EQ(host_.threads.count(std::this_thread::get_id()), 0u);
}

TEST_F(TopicControllerTest, ValidationErrorsAndValidateOnlyWriteNothing) {
  ASSERT_EQ(start(), "");
  ASSERT_TRUE(run(CreateTopic{"a", id_of(1), 1}).ok());
  EXPECT_EQ(run(CreateTopic{"a", id_of(2), 1}).code, 36);
  EXPECT_EQ(run(CreateTopic{"b/c", id_of(2), 1}).code, 17);
  EXPECT_TRUE(run(CreateTopic{"v", id_of(3), 2}, true).ok());
  EXPECT_TRUE(run(AddPartitions{"a", 3}, true).ok());
  EXPECT_EQ(run(AddPartitions{"a", 1}, true).code, 37);
  c_->stop();
  EXPECT_EQ(c_->log_for_tests().records(), 1);
  EXPECT_FALSE(host_.has({"v", 0}));
  EXPECT_FALSE(host_.has({"a", 1}));
  EXPECT_EQ(c_->table_for_tests().find("a")->partitions, 1);
}

TEST_F(TopicControllerTest, RestartReplaysTheLogToTheSameTable) {
  ASSERT_EQ(start(), "");
  ASSERT_TRUE(run(CreateTopic{"a", id_of(1), 2, {{"retention.ms", "100"}}}).ok());
  ASSERT_TRUE(run(CreateTopic{"b", id_of(2), 1}).ok());
  ASSERT_TRUE(run(AddPartitions{"a", 4}).ok());
  ASSERT_TRUE(run(AlterConfigs{"a", {{"cleanup.policy", "compact"}}, false}).ok());
  ASSERT_TRUE(run(DeleteTopic{"b", id_of(2)}).ok());
  c_->stop();
  const TopicTable before = c_->table_for_tests();
  const auto calls = host_.calls.size();
  ASSERT_EQ(start(), "");
  c_->stop();
  EXPECT_EQ(c_->table_for_tests(), before);
  EXPECT_EQ(c_->table_for_tests().find("a")->partitions, 4);
  EXPECT_EQ(c_->table_for_tests().find("b"), nullptr);
  EXPECT_EQ(*c_->topics(), before.topics());
  // Everything was reconciled: the restart re-applies configs, creates nothing.
  for (size_t i = calls; i < host_.calls.size(); ++i) EXPECT_EQ(host_.calls[i].rfind("create", 0), std::string::npos);
  EXPECT_EQ(host_.configs("a").at("cleanup.policy"), "compact");
}

TEST_F(TopicControllerTest, LogIsReplacedByASnapshotWhenItGrows) {
  ASSERT_EQ(start(3), "");
  for (uint8_t i = 1; i <= 7; ++i) ASSERT_TRUE(run(CreateTopic{"t" + std::to_string(i), id_of(i), 1}).ok());
  c_->stop();
  EXPECT_LT(c_->log_for_tests().records(), 4);
  EXPECT_TRUE(fs::exists(dir_ / TopicCommandLog::kSnapshotName));
  const TopicTable before = c_->table_for_tests();
  EXPECT_EQ(before.applied_offset(), 7);
  ASSERT_EQ(start(3), "");
  ASSERT_TRUE(run(DeleteTopic{"t3", {}}).ok());  // and the log goes on after it
  c_->stop();
  ASSERT_EQ(start(3), "");
  c_->stop();
  EXPECT_EQ(c_->table_for_tests().topics().size(), 6u);
  EXPECT_EQ(c_->table_for_tests().find("t5")->id, id_of(5));
}

TEST_F(TopicControllerTest, CommandsTheReconcilerHadNotRecordedAreRedoneAtStart) {
  {
    // A crash after the command was logged, before its partitions were made.
    TopicCommandLog log(dir_, {});
    ASSERT_TRUE(log.open().ok());
    ASSERT_TRUE(log.append({1, CreateTopic{"t", id_of(1), 2}}).ok());
  }
  ASSERT_EQ(start(), "");
  EXPECT_TRUE(host_.online("t", 0));
  EXPECT_TRUE(host_.online("t", 1));
  EXPECT_EQ(*TopicReconciler(host_, dir_).read_mark(), 1);
}

TEST_F(TopicControllerTest, PartitionListedButMissingIsOfflineNeverRecreated) {
  ASSERT_EQ(start(), "");
  ASSERT_TRUE(run(CreateTopic{"lost", id_of(1), 2}).ok());
  c_->stop();
  host_.parts.erase({"lost", 1});  // its directory is gone
  host_.calls.clear();
  ASSERT_EQ(start(), "");
  EXPECT_TRUE(host_.offline("lost", 1));
  const storage::TopicPartition lost1{"lost", 1};
  EXPECT_NE(host_.offline_why[lost1].find("missing from every log dir"), std::string::npos);
  EXPECT_TRUE(host_.online("lost", 0));
  EXPECT_EQ(std::count(host_.calls.begin(), host_.calls.end(), "create lost-1"), 0);
  EXPECT_EQ(published("lost")->partitions, 2);
}

TEST_F(TopicControllerTest, PartitionsOnDiskAreAdoptedOnceAndKeepTheirId) {
  ASSERT_TRUE(host_.create({"found", 0}, {}).ok());
  ASSERT_TRUE(host_.create({"found", 2}, {}).ok());
  ASSERT_TRUE(host_.create({"__consumer_offsets", 0}, {}).ok());
  ASSERT_EQ(start(), "");
  auto t = published("found");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->partitions, 3);
  EXPECT_FALSE(t->internal);
  EXPECT_TRUE(published("__consumer_offsets")->internal);
  EXPECT_TRUE(host_.offline("found", 1));  // listed now, not on disk: never made empty
  c_->stop();
  ASSERT_EQ(start(), "");
  EXPECT_EQ(published("found")->id, t->id);  // the adoption was a logged command
}

TEST_F(TopicControllerTest, NewTopicWhosePartitionsCannotBeMadeIsDeletedBeforeTheCreatorHears) {
  ASSERT_EQ(start(), "");
  host_.fail_create = {{"t", 1}};
  auto e = run(CreateTopic{"t", id_of(1), 3});
  EXPECT_EQ(e.code, 56);
  EXPECT_NE(e.message.find("disk on fire"), std::string::npos);
  EXPECT_FALSE(published("t"));
  EXPECT_TRUE(host_.parts.empty());
  host_.fail_create.clear();
  ASSERT_TRUE(run(CreateTopic{"t", id_of(2), 3}).ok());  // a retry succeeds
  c_->stop();
  ASSERT_EQ(start(), "");
  EXPECT_EQ(published("t")->id, id_of(2));
  for (int p = 0; p < 3; ++p) EXPECT_TRUE(host_.online("t", p));
}

TEST_F(TopicControllerTest, OnChangeFollowsEveryPublishedChangeWithNoLockHeld) {
  std::atomic<int> changes{0};
  std::atomic<size_t> last_size{0};
  TopicControllerOptions o;
  o.dir = dir_;
  c_ = std::make_unique<TopicController>(host_, o);
  c_->set_on_change([&] {
    last_size = c_->topics()->size();  // reads the table: no lock of the controller is held
    ++changes;
  });
  ASSERT_EQ(c_->start(), "");
  const int at_start = changes;
  ASSERT_TRUE(run(CreateTopic{"a", id_of(1), 1}).ok());
  EXPECT_EQ(last_size, 1u);
  ASSERT_TRUE(run(AlterConfigs{"a", {{"retention.ms", "1"}}, false}).ok());
  ASSERT_TRUE(run(DeleteTopic{"a", {}}).ok());
  EXPECT_EQ(run(DeleteTopic{"a", {}}).code, 3);
  EXPECT_EQ(changes - at_start, 3);
  EXPECT_EQ(last_size, 0u);
}

TEST_F(TopicControllerTest, ConcurrentCreatesOfOneNameLetExactlyOneWin) {
  ASSERT_EQ(start(), "");
  std::atomic<int> ok{0}, exists{0};
  std::vector<std::thread> threads;
  for (uint8_t i = 1; i <= 8; ++i)
    threads.emplace_back([&, i] {
      auto e = run(CreateTopic{"race", id_of(i), 2});
      (e.ok() ? ok : exists) += e.ok() || e.code == 36 ? 1 : 100;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(exists, 7);
}

TEST_F(TopicControllerTest, CommandsBeforeStartOrAfterStopAreRefused) {
  TopicControllerOptions o;
  o.dir = dir_;
  c_ = std::make_unique<TopicController>(host_, o);
  // Waits a bounded time: a command that is queued instead of refused would never complete.
  auto refused = [&] {
    auto p = std::make_shared<std::promise<TopicError>>();
    c_->submit(CreateTopic{"a", id_of(1), 1}, false, [p](TopicError e) { p->set_value(std::move(e)); });
    auto f = p->get_future();
    return f.wait_for(std::chrono::seconds(5)) == std::future_status::ready && f.get().code == 56;
  };
  EXPECT_TRUE(refused());
  ASSERT_EQ(c_->start(), "");
  c_->stop();
  EXPECT_TRUE(refused());
  EXPECT_TRUE(host_.parts.empty());
}

TEST_F(TopicControllerTest, TopicsJsonIsMigratedWithItsIdsAndConfigs) {
  std::string text =
      R"({"version": 1, "topics": {"old": {"id": "0123456789abcdef0123456789abcdef", "partitions": 2,
          "internal": false, "configs": {"cleanup.policy": "compact"}}}})";
  auto framed = storage::encode_framed(TopicCommandLog::kLegacyFileVersion,
                                       {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  {
    std::ofstream out(dir_ / "topics.json", std::ios::binary);
    out.write(reinterpret_cast<const char*>(framed.data()), static_cast<std::streamsize>(framed.size()));
  }
  ASSERT_TRUE(host_.create({"old", 0}, {}).ok());
  ASSERT_TRUE(host_.create({"old", 1}, {}).ok());
  ASSERT_EQ(start(), "");
  auto t = published("old");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->id[1], 0x23);
  EXPECT_EQ(host_.configs("old").at("cleanup.policy"), "compact");
  EXPECT_FALSE(fs::exists(dir_ / "topics.json"));
  ASSERT_TRUE(run(AddPartitions{"old", 3}).ok());
  c_->stop();
  ASSERT_EQ(start(), "");
  EXPECT_EQ(published("old")->id, t->id);
  EXPECT_EQ(published("old")->partitions, 3);
}

}  // namespace
}  // namespace millrace::cluster
