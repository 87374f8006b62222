#include "cluster/topics/command_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "storage/checkpoint.h"
#include "storage/fault_env.h"

namespace millrace::cluster {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

LoggedCommand cmd(int64_t offset) {
  TopicId id{};
  id.fill(static_cast<uint8_t>(offset));
  return {offset, CreateTopic{"t" + std::to_string(offset), id, 1}};
}

class CommandLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("topic-command-log-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  storage::Result<TopicCommandLog::Recovered> open(storage::Env* env = nullptr) {
    log_ = std::make_unique<TopicCommandLog>(dir_, dir_ / "topics.json", env);
    return log_->open();
  }
  // Opens and appends commands 1..n.
  void append(int64_t from, int64_t to) {
    for (int64_t o = from; o <= to; ++o) ASSERT_TRUE(log_->append(cmd(o)).ok());
  }
  static std::vector<int64_t> offsets(const TopicCommandLog::Recovered& r) {
    std::vector<int64_t> out;
    for (const auto& c : r.commands) out.push_back(c.offset);
    return out;
  }
  fs::path log_path() const { return dir_ / TopicCommandLog::kLogName; }

  fs::path dir_;
  std::unique_ptr<TopicCommandLog> log_;
};

TEST_F(CommandLogTest, AppendedCommandsComeBackInOrder) {
  ASSERT_TRUE(open().ok());
  append(1, 3);
  auto r = open();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(offsets(*r), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(r->commands[1].command, cmd(2).command);
  EXPECT_TRUE(r->notes.empty());
  EXPECT_EQ(log_->records(), 3);
  append(4, 4);  // continues after a reopen
  EXPECT_EQ(offsets(*open()), (std::vector<int64_t>{1, 2, 3, 4}));
}

TEST_F(CommandLogTest, RecordIsFramedWithLengthVersionAndCrc) {
  auto rec = TopicCommandLog::encode_record(cmd(1));
  ASSERT_GT(rec.size(), 9u);
  uint32_t n = (uint32_t{rec[0]} << 24) | (uint32_t{rec[1]} << 16) | (uint32_t{rec[2]} << 8) | rec[3];
  EXPECT_EQ(n, rec.size() - 4);
  EXPECT_EQ(rec[4], TopicCommandLog::kRecordVersion);
  EXPECT_TRUE(storage::decode_framed(std::vector<uint8_t>(rec.begin() + 4, rec.end()), "r").ok());
}

TEST_F(CommandLogTest, TornLastRecordIsDroppedAndCutOff) {
  ASSERT_TRUE(open().ok());
  append(1, 3);
  auto bytes = file_bytes(log_path());
  const size_t two = bytes.size() - TopicCommandLog::encode_record(cmd(3)).size();
  for (size_t cut : {bytes.size() - 1, two + 2, two + 7}) {  // in the payload, the length, after the length
    write_bytes(log_path(), std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(cut)));
    auto r = open();
    ASSERT_TRUE(r.ok()) << cut << ": " << r.status().to_string();
    EXPECT_EQ(offsets(*r), (std::vector<int64_t>{1, 2})) << cut;
    ASSERT_EQ(r->notes.size(), 1u);
    EXPECT_NE(r->notes[0].find("torn"), std::string::npos);
    EXPECT_EQ(fs::file_size(log_path()), two) << "the torn bytes are cut off the file";
  }
  append(3, 3);  // the next append lands where the torn record was
  EXPECT_EQ(offsets(*open()), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(CommandLogTest, ZerosAfterTheLastRecordAreATornTail) {
  ASSERT_TRUE(open().ok());
  append(1, 2);
  auto bytes = file_bytes(log_path());
  const size_t size = bytes.size();
  bytes.resize(size + 100, 0);  // the file grew but its data never reached the disk
  write_bytes(log_path(), bytes);
  auto r = open();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(offsets(*r), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(fs::file_size(log_path()), size);
}

TEST_F(CommandLogTest, LastRecordFailingItsCrcIsATornTail) {
  ASSERT_TRUE(open().ok());
  append(1, 2);
  auto bytes = file_bytes(log_path());
  bytes[bytes.size() - 10] ^= 0x20;
  write_bytes(log_path(), bytes);
  auto r = open();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(offsets(*r), (std::vector<int64_t>{1}));
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("checksum"), std::string::npos);
}

TEST_F(CommandLogTest, BadCrcBeforeTheTailFailsTheStart) {
  ASSERT_TRUE(open().ok());
  append(1, 3);
  auto bytes = file_bytes(log_path());
  const size_t first = TopicCommandLog::encode_record(cmd(1)).size();
  bytes[first + 12] ^= 0x01;  // inside the second record's payload
  write_bytes(log_path(), bytes);
  auto r = open();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("checksum mismatch"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("at byte " + std::to_string(first)), std::string::npos);
  EXPECT_EQ(file_bytes(log_path()), bytes) << "a damaged log is never rewritten";
}

TEST_F(CommandLogTest, ALengthThatIsNotZerosAndTooShortFailsTheStart) {
  ASSERT_TRUE(open().ok());
  append(1, 1);
  auto bytes = file_bytes(log_path());
  bytes.insert(bytes.begin(), {0, 0, 0, 2, 9, 9});
  write_bytes(log_path(), bytes);
  EXPECT_FALSE(open().ok());
}

TEST_F(CommandLogTest, AnOffsetOutOfSequenceFailsTheStart) {
  auto a = TopicCommandLog::encode_record(cmd(1));
  auto b = TopicCommandLog::encode_record(cmd(3));
  a.insert(a.end(), b.begin(), b.end());
  write_bytes(log_path(), a);
  auto r = open();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("offset 3 where 2 was expected"), std::string::npos) << r.status().message();
}

TopicTable table_after(int64_t n) {
  TopicTable t;
  for (int64_t o = 1; o <= n; ++o) t.apply(cmd(o).command, o);
  return t;
}

TEST_F(CommandLogTest, SnapshotEmptiesTheLogAndCommandsContinueAfterIt) {
  ASSERT_TRUE(open().ok());
  append(1, 3);
  ASSERT_TRUE(log_->write_snapshot(table_after(3)).ok());
  EXPECT_EQ(fs::file_size(log_path()), 0u);
  EXPECT_EQ(log_->records(), 0);
  append(4, 5);
  auto r = open();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->snapshot, table_after(3));
  EXPECT_EQ(offsets(*r), (std::vector<int64_t>{4, 5}));
  auto snap = file_bytes(dir_ / TopicCommandLog::kSnapshotName);
  ASSERT_FALSE(snap.empty());
  EXPECT_EQ(snap[0], TopicCommandLog::kSnapshotVersion);
}

TEST_F(CommandLogTest, ACrashBetweenSnapshotAndEmptyingTheLogSkipsWhatTheSnapshotHolds) {
  ASSERT_TRUE(open().ok());
  append(1, 3);
  // The snapshot was written; the log was not emptied yet.
  auto text = encode_table(table_after(2));
  ASSERT_TRUE(storage::write_file_atomic(dir_ / TopicCommandLog::kSnapshotName,
                                         storage::encode_framed(TopicCommandLog::kSnapshotVersion,
                                                                {reinterpret_cast<const uint8_t*>(text.data()),
                                                                 text.size()}))
                  .ok());
  auto r = open();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->snapshot.applied_offset(), 2);
  EXPECT_EQ(offsets(*r), (std::vector<int64_t>{3}));
  append(4, 4);
  EXPECT_EQ(offsets(*open()), (std::vector<int64_t>{3, 4}));
}

TEST_F(CommandLogTest, DamagedSnapshotFailsTheStart) {
  ASSERT_TRUE(open().ok());
  append(1, 1);
  ASSERT_TRUE(log_->write_snapshot(table_after(1)).ok());
  auto snap = file_bytes(dir_ / TopicCommandLog::kSnapshotName);
  snap[snap.size() / 2] ^= 0x04;
  write_bytes(dir_ / TopicCommandLog::kSnapshotName, snap);
  auto r = open();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("checksum mismatch"), std::string::npos);
}

constexpr const char* kOldTable =
    R"({"version": 1, "topics": {"old": {"id": "0123456789abcdef0123456789abcdef", "partitions": 2,
        "internal": false, "configs": {"retention.ms": "1000"}},
        "__consumer_offsets": {"id": "fedcba9876543210fedcba9876543210", "partitions": 1, "internal": true,
        "configs": {"cleanup.policy": "compact"}}}})";

void expect_old_table(const TopicTable& t) {
  ASSERT_EQ(t.topics().size(), 2u);
  const TopicInfo* old = t.find("old");
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->id[0], 0x01);
  EXPECT_EQ(old->id[15], 0xef);
  EXPECT_EQ(old->partitions, 2);
  EXPECT_EQ(old->configs.at("retention.ms"), "1000");
  EXPECT_TRUE(t.find("__consumer_offsets")->internal);
  EXPECT_EQ(t.applied_offset(), 0);
}

TEST_F(CommandLogTest, FramedTopicsJsonBecomesTheFirstSnapshot) {
  std::string text = kOldTable;
  write_bytes(dir_ / "topics.json", storage::encode_framed(TopicCommandLog::kLegacyFileVersion,
                                                           {reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
  auto r = open();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_old_table(r->snapshot);
  EXPECT_EQ(r->notes.size(), 1u);
  EXPECT_FALSE(fs::exists(dir_ / "topics.json"));
  EXPECT_TRUE(fs::exists(dir_ / TopicCommandLog::kSnapshotName));
  append(1, 1);
  r = open();  // the second start reads the snapshot
  ASSERT_TRUE(r.ok());
  expect_old_table(r->snapshot);
  EXPECT_EQ(offsets(*r), (std::vector<int64_t>{1}));
}

TEST_F(CommandLogTest, UnframedTopicsJsonOfTheOlderFormatBecomesTheFirstSnapshot) {
  std::string text = kOldTable;
  write_bytes(dir_ / "topics.json", std::vector<uint8_t>(text.begin(), text.end()));
  auto r = open();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_old_table(r->snapshot);
  EXPECT_FALSE(fs::exists(dir_ / "topics.json"));
  r = open();
  ASSERT_TRUE(r.ok());
  expect_old_table(r->snapshot);
}

TEST_F(CommandLogTest, DamagedTopicsJsonFailsTheStartAndIsKept) {
  std::string text = kOldTable;
  auto framed = storage::encode_framed(TopicCommandLog::kLegacyFileVersion,
                                       {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  framed[framed.size() / 2] ^= 0x01;
  write_bytes(dir_ / "topics.json", framed);
  auto r = open();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot read"), std::string::npos);
  EXPECT_NE(r.status().message().find("checksum mismatch"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "topics.json"));
  write_bytes(dir_ / "topics.json", std::vector<uint8_t>{'{', 'n', 'o'});
  EXPECT_NE(open().status().message().find("cannot read"), std::string::npos);
}

TEST_F(CommandLogTest, AppendedCommandSurvivesAPowerLoss) {
  storage::FaultInjectionEnv env;
  ASSERT_TRUE(open(&env).ok());
  append(1, 2);
  env.crash();
  env.revive();
  auto r = open(&env);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(offsets(*r), (std::vector<int64_t>{1, 2}));
}

TEST_F(CommandLogTest, FailedAppendIsCutOffSoTheNextOneFollowsTheLastGoodRecord) {
  storage::FaultInjectionEnv env;
  ASSERT_TRUE(open(&env).ok());
  append(1, 1);
  const auto size = fs::file_size(log_path());
  env.inject(storage::FaultInjectionEnv::Op::kSync, EIO, TopicCommandLog::kLogName, 0, 1);
  EXPECT_FALSE(log_->append(cmd(2)).ok());
  EXPECT_EQ(fs::file_size(log_path()), size);
  append(2, 2);  // the same offset again: the failed one was never applied
  auto r = open(&env);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(offsets(*r), (std::vector<int64_t>{1, 2}));
}

TEST_F(CommandLogTest, LogThatCannotBeCutBackRefusesEveryLaterAppend) {
  storage::FaultInjectionEnv env;
  ASSERT_TRUE(open(&env).ok());
  env.inject(storage::FaultInjectionEnv::Op::kSync, EIO, TopicCommandLog::kLogName);  // for ever
  EXPECT_FALSE(log_->append(cmd(1)).ok());
  env.clear_faults();
  auto s = log_->append(cmd(1));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("broken"), std::string::npos);
}

}  // namespace
}  // namespace millrace::cluster
