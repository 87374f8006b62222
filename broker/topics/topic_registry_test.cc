#include "broker/topics/topic_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>

#include "cluster/topics/command_log.h"
#include "storage/checkpoint.h"
#include "storage/test_util.h"

namespace millrace::broker {
namespace {

using storage::testing::file_bytes;
using storage::testing::write_bytes;

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

TEST_F(TopicRegistryTest, ChangesAreLoggedFramedAndADamagedLogFailsTheStart) {
  ASSERT_EQ(registry_->create("framed", 1, {}, false, false, msg_), 0);
  ASSERT_EQ(registry_->create("second", 1, {}, false, false, msg_), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "topics.json"));
  auto bytes = file_bytes(dir_ / "topics.log");
  ASSERT_GT(bytes.size(), 10u);
  EXPECT_EQ(bytes[4], cluster::TopicCommandLog::kRecordVersion);
  registry_.reset();
  bytes[10] ^= 0x01;  // in the first of two records: not a torn tail
  write_bytes(dir_ / "topics.log", bytes);
  TopicRegistry r(*logs_, dir_ / "topics.json");
  auto err = r.load();
  EXPECT_NE(err.find("checksum mismatch"), std::string::npos) << err;
}

TEST_F(TopicRegistryTest, FramedFileOfTheOlderFormatIsReadWithItsCrcChecked) {
  registry_.reset();
  std::string text = R"({"version": 1, "topics": {"old": {"id": "0123456789abcdef0123456789abcdef", "partitions": 1,
                         "internal": false, "configs": {}}}})";
  auto framed = storage::encode_framed(2, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  framed[framed.size() / 2] ^= 0x01;
  write_bytes(dir_ / "topics.json", framed);
  TopicRegistry r(*logs_, dir_ / "topics.json");
  EXPECT_NE(r.load().find("checksum mismatch"), std::string::npos);
}

TEST_F(TopicRegistryTest, UnframedFileOfTheOlderFormatIsReadAndReplaced) {
  registry_.reset();
  {
    std::ofstream out(dir_ / "topics.json");
    out << R"({"version": 1, "topics": {"old": {"id": "0123456789abcdef0123456789abcdef", "partitions": 1,
              "internal": false, "configs": {"retention.ms": "1000"}}}})";
  }
  registry_ = std::make_unique<TopicRegistry>(*logs_, dir_ / "topics.json");
  ASSERT_EQ(registry_->load(), "");
  auto t = registry_->get("old");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->id[0], 0x01);
  EXPECT_EQ(t->configs.at("retention.ms"), "1000");
  EXPECT_EQ(logs_->topic_config("old").retention_ms, 1000);
  EXPECT_TRUE(logs_->get({"old", 0})->is_offline());  // listed, never on disk: offline, not made empty
  EXPECT_FALSE(std::filesystem::exists(dir_ / "topics.json"));
  EXPECT_EQ(file_bytes(dir_ / "topics.snapshot")[0], cluster::TopicCommandLog::kSnapshotVersion);
  open();
  EXPECT_EQ(registry_->get("old")->id, t->id);
}

TEST_F(TopicRegistryTest, PartitionsOnDiskAreAdoptedWithTheirCount) {
  ASSERT_TRUE(logs_->create({"stray", 0}).ok());
  ASSERT_TRUE(logs_->create({"stray", 1}).ok());
  open();
  auto t = registry_->get("stray");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->partitions, 2);
  open();
  EXPECT_EQ(registry_->get("stray")->id, t->id);
}

TEST_F(TopicRegistryTest, AsyncCallsCompleteOnTheTablesThreadAfterTheLogsExist) {
  std::promise<TopicError> p;
  registry_->create_async("async", 2, {}, false, false, [&](TopicError e) {
    if (logs_->get({"async", 1}) == nullptr) e = {-1, "completed before the logs existed"};
    p.set_value(std::move(e));
  });
  auto e = p.get_future().get();
  EXPECT_EQ(e.code, 0) << e.message;
  std::promise<TopicError> q;
  registry_->remove_async("async", cluster::TopicId{1}, [&](TopicError e) { q.set_value(std::move(e)); });
  EXPECT_EQ(q.get_future().get().code, 100);  // another id: UNKNOWN_TOPIC_ID
  EXPECT_NE(logs_->get({"async", 0}), nullptr);
}

TEST_F(TopicRegistryTest, PartitionMissingFromDiskIsOfflineNotRecreatedEmpty) {
  ASSERT_EQ(registry_->create("lost", 2, {}, false, false, msg_), 0);
  std::vector<uint8_t> b(70, 0);  // not a batch: an offline partition refuses before parsing
  registry_.reset();
  (void)logs_->shutdown();
  logs_.reset();
  std::filesystem::remove_all(dir_ / "lost-1");
  open();
  auto log = logs_->get({"lost", 1});
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->is_offline());
  EXPECT_EQ(log->append(b, LeaderEpoch(0)).code(), storage::Errc::kStorageError);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "lost-1"));
  EXPECT_FALSE(logs_->get({"lost", 0})->is_offline());
  EXPECT_EQ(registry_->get("lost")->partitions, 2);
}

TEST_F(TopicRegistryTest, PartitionThatFailsToLoadIsOfflineAndNothingIsCreatedInAnotherDir) {
  // Two log dirs: the broken partition must not reappear, empty, in the other.
  registry_.reset();
  (void)logs_->shutdown();
  logs_.reset();
  auto open2 = [&] {
    storage::LogManagerOptions o;
    o.log_dirs = {dir_ / "a", dir_ / "b"};
    o.start_housekeeping = false;
    logs_ = std::move(storage::LogManager::open(o)).value();
    registry_ = std::make_unique<TopicRegistry>(*logs_, dir_ / "a" / "topics.json");
    return registry_->load();
  };
  ASSERT_EQ(open2(), "");
  ASSERT_EQ(registry_->create("bad", 2, {}, false, false, msg_), 0);
  registry_.reset();
  (void)logs_->shutdown();
  logs_.reset();
  std::filesystem::path broken;
  for (const auto& d : {dir_ / "a", dir_ / "b"})
    if (std::filesystem::exists(d / "bad-0")) broken = d / "bad-0";
  ASSERT_FALSE(broken.empty());
  auto seg = broken / "00000000000000000000.log";
  std::filesystem::remove(seg);
  std::filesystem::create_directory(seg);  // unreadable as a segment
  ASSERT_EQ(open2(), "");  // the broker starts
  ASSERT_EQ(logs_->load_errors().size(), 1u);
  auto log = logs_->get({"bad", 0});
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->is_offline());
  std::vector<uint8_t> junk(70, 0);
  EXPECT_EQ(log->append(junk, LeaderEpoch(0)).code(), storage::Errc::kStorageError);
  int copies = 0;
  for (const auto& d : {dir_ / "a", dir_ / "b"}) copies += std::filesystem::exists(d / "bad-0") ? 1 : 0;
  EXPECT_EQ(copies, 1);
  EXPECT_TRUE(std::filesystem::is_directory(seg));
  std::string msg;
  EXPECT_EQ(registry_->add_partitions("bad", 3, false, msg), 0) << msg;  // the others still work
}

}  // namespace
}  // namespace millrace::broker
