#include "cluster/topics/topic_table.h"

#include <gtest/gtest.h>

#include "cluster/topics/topic_codec.h"

namespace millrace::cluster {
namespace {

TopicId id_of(uint8_t b) {
  TopicId id{};
  id.fill(b);
  return id;
}

class TopicTableTest : public ::testing::Test {
 protected:
  // Validates and applies as the controller does; returns the error.
  TopicError run(const TopicCommand& cmd) {
    TopicError e = table_.validate(cmd);
    if (e.ok()) last_ = table_.apply(cmd, table_.applied_offset() + 1);
    return e;
  }
  TopicTable table_;
  TopicDelta last_;
};

TEST_F(TopicTableTest, CreateListsTheTopicAndAsksForEveryPartition) {
  ASSERT_TRUE(run(CreateTopic{"orders", id_of(1), 3, {{"retention.ms", "1000"}}, false}).ok());
  const TopicInfo* t = table_.find("orders");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->partitions, 3);
  EXPECT_EQ(t->id, id_of(1));
  EXPECT_EQ(t->configs.at("retention.ms"), "1000");
  EXPECT_EQ(last_.created, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_TRUE(last_.new_topic);
  EXPECT_EQ(last_.configs->at("retention.ms"), "1000");
  EXPECT_EQ(table_.applied_offset(), 1);
}

TEST_F(TopicTableTest, CreateIsValidatedWithKafkasCodesAndMessages) {
  ASSERT_TRUE(run(CreateTopic{"a", id_of(1), 1}).ok());
  auto e = run(CreateTopic{"a", id_of(2), 1});
  EXPECT_EQ(e.code, 36);  // TOPIC_ALREADY_EXISTS
  EXPECT_EQ(e.message, "topic 'a' already exists");
  e = run(CreateTopic{"bad/name", id_of(3), 1});
  EXPECT_EQ(e.code, 17);  // INVALID_TOPIC_EXCEPTION
  EXPECT_NE(e.message.find("characters"), std::string::npos);
  EXPECT_EQ(run(CreateTopic{"..", id_of(3), 1}).code, 17);
  EXPECT_EQ(run(CreateTopic{std::string(250, 'x'), id_of(3), 1}).code, 17);
  EXPECT_EQ(run(CreateTopic{"z", id_of(3), 0}).code, 37);  // INVALID_PARTITIONS
  EXPECT_EQ(run(CreateTopic{"z", id_of(3), 100001}).code, 37);
  EXPECT_EQ(run(CreateTopic{"c", id_of(3), 1, {{"retention.mss", "1"}}}).code, 40);  // INVALID_CONFIG
  EXPECT_EQ(run(CreateTopic{"c", id_of(3), 1, {{"retention.ms", "soon"}}}).code, 40);
  EXPECT_EQ(table_.topics().size(), 1u);
  EXPECT_EQ(table_.applied_offset(), 1);  // nothing refused was applied
}

TEST_F(TopicTableTest, DeleteRemovesTheTopicAndAsksForItsPartitionsToGo) {
  ASSERT_TRUE(run(CreateTopic{"gone", id_of(1), 2}).ok());
  ASSERT_TRUE(run(DeleteTopic{"gone", {}}).ok());
  EXPECT_EQ(table_.find("gone"), nullptr);
  EXPECT_EQ(last_.removed, (std::vector<int32_t>{0, 1}));
  auto e = run(DeleteTopic{"gone", {}});
  EXPECT_EQ(e.code, 3);  // UNKNOWN_TOPIC_OR_PARTITION
  EXPECT_EQ(e.message, "topic 'gone' does not exist");
}

TEST_F(TopicTableTest, DeleteNamingAnotherIdIsRefused) {
  ASSERT_TRUE(run(CreateTopic{"t", id_of(1), 1}).ok());
  EXPECT_EQ(run(DeleteTopic{"t", id_of(9)}).code, 100);  // UNKNOWN_TOPIC_ID
  EXPECT_NE(table_.find("t"), nullptr);
  EXPECT_TRUE(run(DeleteTopic{"t", id_of(1)}).ok());
}

TEST_F(TopicTableTest, PartitionsOnlyGrow) {
  ASSERT_TRUE(run(CreateTopic{"g", id_of(1), 2, {{"cleanup.policy", "compact"}}}).ok());
  auto e = run(AddPartitions{"g", 2});
  EXPECT_EQ(e.code, 37);
  EXPECT_EQ(e.message, "topic has 2 partitions; the count can only grow");
  EXPECT_EQ(run(AddPartitions{"nope", 5}).code, 3);
  ASSERT_TRUE(run(AddPartitions{"g", 4}).ok());
  EXPECT_EQ(table_.find("g")->partitions, 4);
  EXPECT_EQ(last_.created, (std::vector<int32_t>{2, 3}));
  EXPECT_FALSE(last_.new_topic);
  EXPECT_EQ(last_.configs->at("cleanup.policy"), "compact");  // the new logs get the topic's configs
}

TEST_F(TopicTableTest, AlterConfigsReplacesOrMerges) {
  ASSERT_TRUE(run(CreateTopic{"c", id_of(1), 1, {{"retention.ms", "1000"}, {"segment.ms", "60000"}}}).ok());
  ASSERT_TRUE(run(AlterConfigs{"c", {{"retention.ms", std::nullopt}, {"cleanup.policy", "compact"}}, false}).ok());
  EXPECT_EQ(table_.find("c")->configs,
            (std::map<std::string, std::string>{{"cleanup.policy", "compact"}, {"segment.ms", "60000"}}));
  EXPECT_EQ(*last_.configs, table_.find("c")->configs);
  EXPECT_TRUE(last_.created.empty());
  ASSERT_TRUE(run(AlterConfigs{"c", {{"retention.ms", "5"}}, true}).ok());
  EXPECT_EQ(table_.find("c")->configs, (std::map<std::string, std::string>{{"retention.ms", "5"}}));
}

TEST_F(TopicTableTest, AlterConfigsChecksConfigsBeforeTheTopic) {
  auto e = run(AlterConfigs{"missing", {{"retention.mss", "1"}}, false});
  EXPECT_EQ(e.code, 40);
  EXPECT_EQ(e.message, "unknown topic config 'retention.mss'");
  EXPECT_EQ(run(AlterConfigs{"missing", {{"retention.ms", "x"}}, false}).code, 40);
  EXPECT_EQ(run(AlterConfigs{"missing", {{"retention.ms", "1"}}, false}).code, 3);
}

TEST_F(TopicTableTest, AnInvalidCommandAppliedAnywayChangesNothingButTheOffset) {
  ASSERT_TRUE(run(CreateTopic{"a", id_of(1), 1}).ok());
  TopicTable before = table_;
  TopicDelta d = table_.apply(CreateTopic{"a", id_of(2), 5}, 7);
  EXPECT_TRUE(d.created.empty());
  EXPECT_EQ(table_.topics(), before.topics());
  EXPECT_EQ(table_.applied_offset(), 7);
}

TEST_F(TopicTableTest, AdoptionListsWhatIsOnDiskWithoutCreatingIt) {
  ASSERT_TRUE(run(CreateTopic{"known", id_of(1), 1}).ok());
  auto cmds = table_.adoption({{"known", 3}, {"found", 2}, {"__consumer_offsets", 1}},
                              [](const std::string&) { return id_of(7); });
  ASSERT_EQ(cmds.size(), 3u);
  for (const auto& c : cmds) {
    ASSERT_TRUE(table_.validate(c).ok());
    EXPECT_TRUE(table_.apply(c, table_.applied_offset() + 1).created.empty());
  }
  EXPECT_EQ(table_.find("known")->partitions, 3);
  EXPECT_EQ(table_.find("found")->partitions, 2);
  EXPECT_EQ(table_.find("found")->id, id_of(7));
  EXPECT_FALSE(table_.find("found")->internal);
  EXPECT_TRUE(table_.find("__consumer_offsets")->internal);
  EXPECT_TRUE(table_.adoption({{"known", 3}}, [](const std::string&) { return id_of(8); }).empty());
}

TEST_F(TopicTableTest, ReplayingTheSameCommandsGivesTheSameTable) {
  std::vector<LoggedCommand> log;
  auto submit = [&](TopicCommand c) {
    if (table_.validate(c).ok()) {
      log.push_back({table_.applied_offset() + 1, c});
      table_.apply(c, log.back().offset);
    }
  };
  submit(CreateTopic{"a", id_of(1), 2, {{"retention.ms", "100"}}});
  submit(CreateTopic{"b", id_of(2), 1});
  submit(AddPartitions{"a", 5});
  submit(AlterConfigs{"a", {{"cleanup.policy", "compact"}}, false});
  submit(AlterConfigs{"a", {{"retention.ms", std::nullopt}}, false});  // a deleted key
  submit(DeleteTopic{"b", {}});
  submit(CreateTopic{"b", id_of(3), 4, {}, true});
  submit(AlterConfigs{"b", {{"retention.ms", "7"}}, true});
  ASSERT_EQ(log.size(), 8u);
  EXPECT_EQ(table_.find("a")->configs, (std::map<std::string, std::string>{{"cleanup.policy", "compact"}}));
  // Through the log's own encoding, as a restart reads it.
  TopicTable replayed;
  for (const auto& lc : log) {
    auto text = encode_command(lc);
    auto decoded = decode_command({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
    EXPECT_EQ(decoded->command, lc.command);
    replayed.apply(decoded->command, decoded->offset);
  }
  EXPECT_EQ(replayed, table_);
  // And through a snapshot taken half-way.
  TopicTable half;
  for (size_t i = 0; i < 4; ++i) half.apply(log[i].command, log[i].offset);
  auto text = encode_table(half);
  auto restored = decode_table({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(*restored, half);
  for (size_t i = 4; i < log.size(); ++i) restored->apply(log[i].command, log[i].offset);
  EXPECT_EQ(*restored, table_);
}

TEST(TopicCodecTest, DamagedTextIsAnErrorNotACrash) {
  for (std::string text : {"{not json", R"({"offset": 1, "type": "explode", "name": "x"})",
                           R"({"offset": 1, "type": "create_topic", "name": "x", "id": "zz"})"}) {
    auto c = decode_command({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    EXPECT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.code(), storage::Errc::kCorruptSegment);
  }
  std::string bad_id = R"({"topics": {"t": {"id": "0123", "partitions": 1}}})";
  EXPECT_FALSE(decode_table({reinterpret_cast<const uint8_t*>(bad_id.data()), bad_id.size()}).ok());
}

}  // namespace
}  // namespace millrace::cluster
