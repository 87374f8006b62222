#include "storage/log_manager.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "storage/segment.h"
#include "storage/test_util.h"

namespace millrace::storage {
namespace {

namespace fs = std::filesystem;

class LogManagerTest : public ::testing::Test {
 protected:
  std::unique_ptr<LogManager> open(bool housekeeping = false) {
    LogManagerOptions o;
    o.log_dirs = {dir_.path() / "a", dir_.path() / "b"};
    o.start_housekeeping = housekeeping;
    o.housekeeping_interval_ms = 20;
    o.load_threads = 4;
    auto m = LogManager::open(o);
    EXPECT_TRUE(m.ok()) << m.status().to_string();
    return m.ok() ? std::move(*m) : nullptr;
  }
  testing::TempDir dir_;
};

TEST_F(LogManagerTest, CreatesSpreadsReloadsAndRemoves) {
  {
    auto m = open();
    for (int p = 0; p < 6; ++p) {
      auto log = m->create({"orders", p});
      ASSERT_TRUE(log.ok()) << log.status().to_string();
      auto b = testing::simple_batch(p + 1);
      ASSERT_TRUE((*log)->append(b, LeaderEpoch(0)).ok());
    }
    EXPECT_EQ(m->create({"orders", 0}).code(), Errc::kAlreadyExists);
    EXPECT_EQ(m->create({"../x", 0}).code(), Errc::kInvalidArgument);
    int in_a = 0;
    for (const auto& info : m->partitions()) in_a += info.log_dir == dir_.path() / "a";
    EXPECT_EQ(in_a, 3);  // fewest-partitions placement alternates dirs
    ASSERT_TRUE(m->shutdown().ok());
  }
  auto m = open();
  EXPECT_TRUE(m->load_errors().empty());
  ASSERT_EQ(m->partitions().size(), 6u);
  for (int p = 0; p < 6; ++p) {
    auto log = m->get({"orders", p});
    ASSERT_TRUE(log);
    EXPECT_EQ(log->log_end_offset().value(), p + 1);
    EXPECT_TRUE(log->recovery_info().clean_shutdown);
  }
  auto sizes = m->partitions();
  EXPECT_GT(sizes[0].size_bytes, 0);
  ASSERT_TRUE(m->remove({"orders", 3}).ok());
  EXPECT_FALSE(m->get({"orders", 3}));
  EXPECT_FALSE(fs::exists(dir_.path() / "b" / "orders-3") || fs::exists(dir_.path() / "a" / "orders-3"));
  EXPECT_EQ(m->remove({"orders", 3}).code(), Errc::kNotFound);
}

TEST_F(LogManagerTest, TopicConfigAppliesAtRunTimeAndBadValuesAreRefused) {
  auto m = open();
  ASSERT_TRUE(m->create({"t", 0}, {{"segment.bytes", "1000"}}).ok());
  EXPECT_EQ(m->get({"t", 0})->config().segment_bytes, 1000);
  EXPECT_EQ(m->create({"u", 0}, {{"segment.bytez", "1"}}).code(), Errc::kInvalidArgument);
  EXPECT_EQ(m->set_topic_config("t", {{"retention.ms", "soon"}}).code(), Errc::kInvalidArgument);
  ASSERT_TRUE(m->set_topic_config("t", {{"cleanup.policy", "compact,delete"}, {"retention.bytes", "5"}}).ok());
  auto c = m->get({"t", 0})->config();
  EXPECT_TRUE(c.cleanup_compact);
  EXPECT_TRUE(c.cleanup_delete);
  EXPECT_EQ(c.retention_bytes, 5);
  EXPECT_EQ(m->topic_config("t").retention_bytes, 5);
  // write.caching (a replicated partition's acks=all without the fsync) is a
  // boolean, read cheaply on the produce path.
  EXPECT_FALSE(m->get({"t", 0})->write_caching());
  EXPECT_EQ(m->set_topic_config("t", {{"write.caching", "maybe"}}).code(), Errc::kInvalidArgument);
  ASSERT_TRUE(m->set_topic_config("t", {{"write.caching", "true"}}).ok());
  EXPECT_TRUE(m->get({"t", 0})->write_caching());
  EXPECT_EQ(m->get({"t", 0})->config().to_map().at("write.caching"), "true");
}

TEST_F(LogManagerTest, HousekeepingAppliesRetention) {
  auto m = open(true);
  auto log = *m->create({"r", 0}, {{"segment.bytes", "500"}, {"retention.bytes", "600"}});
  for (int i = 0; i < 30; ++i) {
    auto b = testing::simple_batch(2, 1000, 40);
    ASSERT_TRUE(log->append(b, LeaderEpoch(0)).ok());
  }
  for (int i = 0; i < 200 && log->log_start_offset().value() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GT(log->log_start_offset().value(), 0);
  for (int i = 0; i < 200 && log->size_bytes() > 600 + 500; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_LE(log->size_bytes(), 600 + 500);
}

TEST_F(LogManagerTest, BrokenPartitionIsReportedAndTheRestLoad) {
  {
    auto m = open();
    for (int p = 0; p < 4; ++p) ASSERT_TRUE(m->create({"x", p}).ok());
    auto b = testing::simple_batch(1);
    ASSERT_TRUE(m->get({"x", 2})->append(b, LeaderEpoch(0)).ok());
  }
  fs::path broken;
  for (const auto& d : {dir_.path() / "a", dir_.path() / "b"})
    if (fs::exists(d / "x-2")) broken = d / "x-2";
  fs::path seg = broken / segment_file_name(0, ".log");
  fs::remove(seg);
  fs::create_directory(seg);
  auto m = open();
  ASSERT_EQ(m->load_errors().size(), 1u);
  EXPECT_EQ(m->load_errors()[0].dir, broken);
  EXPECT_EQ(m->load_errors()[0].status.code(), Errc::kCorruptSegment);
  // The broken partition stays, offline: every call answers kStorageError,
  // and it is never re-created empty (in its own dir or another one).
  ASSERT_EQ(m->partitions().size(), 4u);
  int offline = 0;
  for (const auto& p : m->partitions()) offline += p.offline ? 1 : 0;
  EXPECT_EQ(offline, 1);
  auto log = m->get({"x", 2});
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->is_offline());
  auto b = testing::simple_batch(1);
  EXPECT_EQ(log->append(b, LeaderEpoch(0)).code(), Errc::kStorageError);
  EXPECT_EQ(log->read(Offset(0), 1 << 20, Offset(1)).code(), Errc::kStorageError);
  EXPECT_EQ(log->flush().code(), Errc::kStorageError);
  EXPECT_EQ(m->create({"x", 2}).code(), Errc::kAlreadyExists);
  EXPECT_TRUE(m->get({"x", 1})->append(b, LeaderEpoch(0)).ok());  // the others work
  // The partition that never loaded was reported then; shutdown closes the rest cleanly.
  EXPECT_TRUE(m->shutdown().ok());
  int copies = 0;
  for (const auto& d : {dir_.path() / "a", dir_.path() / "b"}) copies += fs::exists(d / "x-2") ? 1 : 0;
  EXPECT_EQ(copies, 1);
  EXPECT_TRUE(fs::is_directory(seg));  // untouched
}

// C9: with kOnFlush (log.flush.on.acks.all) consumers see only fsynced records,
// an append with nobody waiting for its flush still gets flushed (so acks=0/1
// records become visible), and the flush that moves the high watermark says so
// (the broker wakes its parked fetches on it).
TEST_F(LogManagerTest, OnFlushPolicyMakesAppendsVisibleOnlyOnceFsyncedAndReportsIt) {
  LogManagerOptions o;
  o.log_dirs = {dir_.path() / "a"};
  o.start_housekeeping = false;
  o.hw_policy = HwPolicy::kOnFlush;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<TopicPartition> moved;
  o.on_hw_moved = [&](const TopicPartition& tp) {
    std::lock_guard l(mu);
    moved.push_back(tp);
    cv.notify_all();
  };
  auto m = std::move(*LogManager::open(o));
  auto log = *m->create({"v", 0});
  auto b = testing::simple_batch(3);
  ASSERT_TRUE(log->append(b, LeaderEpoch(0)).ok());
  {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(30), [&] { return !moved.empty(); }));
    EXPECT_EQ(moved.front(), (TopicPartition{"v", 0}));
  }
  // Whatever the HW says is fsynced.
  EXPECT_EQ(log->high_watermark().value(), 3);
  EXPECT_LE(log->high_watermark().value(), log->recovery_point().value());
}

TEST_F(LogManagerTest, LoadsManyPartitionsInParallel) {
  {
    auto m = open();
    for (int p = 0; p < 300; ++p) ASSERT_TRUE(m->create({"many", p}).ok());
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(m->shutdown().ok());
    std::cout << "closed 300 partitions in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
  }
  auto start = std::chrono::steady_clock::now();
  auto m = open();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(m->partitions().size(), 300u);
  EXPECT_TRUE(m->load_errors().empty());
  std::cout << "loaded 300 partitions in " << secs << " s\n";
}

TEST_F(LogManagerTest, TopicConfigsAtStartApplyWhileLoading) {
  {
    auto m = open();
    ASSERT_TRUE(m->create({"keep", 0}, {{"retention.ms", "-1"}}).ok());
  }
  LogManagerOptions o;
  o.log_dirs = {dir_.path() / "a", dir_.path() / "b"};
  o.start_housekeeping = false;
  o.topic_configs["keep"] = {{"retention.ms", "-1"}};
  auto m = LogManager::open(o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->get({"keep", 0})->config().retention_ms, -1);
  o.topic_configs["keep"] = {{"retention.ms", "never"}};
  EXPECT_EQ(LogManager::open(o).code(), Errc::kInvalidArgument);
}

// Appends wait in the partition's append buffer for at most append_linger_ms
// before the tail writer thread puts them in the file (no read, no flush here);
// an idle partition's buffer goes back to the pool at housekeeping.
TEST_F(LogManagerTest, LingerTimerWritesAppendBuffersToTheFile) {
  LogManagerOptions o;
  o.log_dirs = {dir_.path() / "a"};
  o.start_housekeeping = false;
  o.append_buffer_bytes = 64 << 10;
  o.append_linger_ms = 5;
  o.housekeeping_interval_ms = 100;
  auto m = LogManager::open(o);
  ASSERT_TRUE(m.ok());
  auto log = (*m)->create({"t", 0});
  ASSERT_TRUE(log.ok());
  auto b = testing::simple_batch(3);
  ASSERT_TRUE((*log)->append(b, LeaderEpoch(0)).ok());
  fs::path file = dir_.path() / "a" / "t-0" / segment_file_name(0, ".log");
  const auto want = static_cast<uintmax_t>((*log)->size_bytes());
  for (int i = 0; i < 400 && fs::file_size(file) != want; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(fs::file_size(file), want);
  EXPECT_EQ((*log)->written_end_offset().value(), 3);
  EXPECT_EQ((*m)->append_buffer_bytes_in_use(), 64 << 10);
  // Idle for a housekeeping interval: the buffer goes back to the pool.
  std::this_thread::sleep_for(std::chrono::milliseconds(o.housekeeping_interval_ms + 50));
  (*m)->run_housekeeping();
  EXPECT_EQ((*m)->append_buffer_bytes_in_use(), 0);
  ASSERT_TRUE((*log)->append(b, LeaderEpoch(0)).ok());  // and comes back on the next append
  EXPECT_EQ((*m)->append_buffer_bytes_in_use(), 64 << 10);
}

TEST(TopicPartitionTest, DirNames) {
  EXPECT_EQ((TopicPartition{"a-b", 12}.dir_name()), "a-b-12");
  auto tp = TopicPartition::from_dir_name("a-b-12");
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->topic, "a-b");
  EXPECT_EQ(tp->partition, 12);
  EXPECT_FALSE(TopicPartition::from_dir_name("nodash"));
  EXPECT_FALSE(TopicPartition::from_dir_name("t-"));
  EXPECT_FALSE(TopicPartition::from_dir_name("t-1x"));
}

}  // namespace
}  // namespace millrace::storage
