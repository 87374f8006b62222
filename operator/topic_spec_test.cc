#include "operator/topic_spec.h"

#include <gtest/gtest.h>

namespace millrace::op {
namespace {

json topic(const std::string& name, json spec, const std::string& created = "2024-01-01T00:00:00Z",
           const std::string& ns = "ns") {
  if (!spec.contains("clusterRef")) spec["clusterRef"] = {{"name", "m"}};
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"creationTimestamp", created}}}, {"spec", spec}};
}

TEST(TopicSpec, TheKafkaNameIsTopicNameOrTheObjectsName) {
  EXPECT_EQ(kafka_topic_name(topic("orders", json::object())), "orders");
  EXPECT_EQ(kafka_topic_name(topic("orders", {{"topicName", "orders.v2"}})), "orders.v2");
}

TEST(TopicSpec, PreferredRacksAreReadInOrder) {
  auto p = parse_preferred_racks(topic("t", {{"leaders", {{"preferredRacks", {"eu-1b", "eu-1a"}}}}}));
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.racks, (std::vector<std::string>{"eu-1b", "eu-1a"}));
  EXPECT_TRUE(parse_preferred_racks(topic("t", json::object())).racks.empty());
  EXPECT_TRUE(parse_preferred_racks(topic("t", {{"leaders", json::object()}})).racks.empty());
  EXPECT_EQ(parse_preferred_racks(topic("t", {{"leaders", {{"preferredRacks", json::array()}}}})).error, "");
}

TEST(TopicSpec, BadPreferredRacksNameTheField) {
  auto error = [](json leaders) { return parse_preferred_racks(topic("t", {{"leaders", leaders}})).error; };
  EXPECT_EQ(error({{"preferredRacks", {"a", "b", "a"}}}), "spec.leaders.preferredRacks[2]: \"a\" twice");
  EXPECT_EQ(error({{"preferredRacks", {"a", ""}}}), "spec.leaders.preferredRacks[1]: must not be empty");
  EXPECT_EQ(error({{"preferredRacks", {"a", 3}}}), "spec.leaders.preferredRacks[1]: must be a string");
  EXPECT_EQ(error({{"preferredRacks", "a"}}), "spec.leaders.preferredRacks: must be a list of rack names");
  EXPECT_EQ(error("a"), "spec.leaders: must be an object");
  EXPECT_TRUE(parse_preferred_racks(topic("t", {{"leaders", {{"preferredRacks", {"a", "a"}}}}})).racks.empty());
}

TEST(TopicSpec, TheClustersTopicsGiveThePlannerTheirRacks) {
  std::vector<json> topics = {
      topic("a", {{"leaders", {{"preferredRacks", {"r2", "r1"}}}}}),
      topic("b", json::object()),                                                        // no preference
      topic("c", {{"leaders", {{"preferredRacks", {"r1", "r1"}}}}}),                      // invalid: left out
      topic("d", {{"topicName", "kafka-d"}, {"leaders", {{"preferredRacks", {"r3"}}}}}),  // by its Kafka name
      topic("e", {{"clusterRef", {{"name", "other"}}}, {"leaders", {{"preferredRacks", {"r1"}}}}}),
      topic("f", {{"leaders", {{"preferredRacks", {"r1"}}}}}, "2024-01-01T00:00:00Z", "elsewhere"),
  };
  auto racks = preferred_leader_racks(topics, "ns", "m");
  ASSERT_EQ(racks.size(), 2u);
  EXPECT_EQ(racks.at("a"), (std::vector<std::string>{"r2", "r1"}));
  EXPECT_EQ(racks.at("kafka-d"), (std::vector<std::string>{"r3"}));
}

TEST(TopicSpec, TwoTopicsNamingOneKafkaTopicTheOlderCounts) {
  std::vector<json> topics = {
      topic("newer", {{"topicName", "x"}, {"leaders", {{"preferredRacks", {"new"}}}}}, "2024-02-01T00:00:00Z"),
      topic("older", {{"topicName", "x"}, {"leaders", {{"preferredRacks", {"old"}}}}}, "2024-01-01T00:00:00Z"),
  };
  EXPECT_EQ(preferred_leader_racks(topics, "ns", "m").at("x"), (std::vector<std::string>{"old"}));
  std::swap(topics[0], topics[1]);  // list order does not matter
  EXPECT_EQ(preferred_leader_racks(topics, "ns", "m").at("x"), (std::vector<std::string>{"old"}));
  // The older one without a preference: none, not the newer one's.
  topics[0]["spec"].erase("leaders");
  EXPECT_EQ(preferred_leader_racks(topics, "ns", "m").count("x"), 0u);
}

}  // namespace
}  // namespace millrace::op
