#include "operator/node_ids.h"

#include <gtest/gtest.h>

namespace millrace::op {
namespace {

json config_map(json data, json annotations = json::object()) {
  return {{"metadata", {{"name", "demo-node-ids"}, {"annotations", annotations}}}, {"data", data}};
}

NodeIds read_ok(const json& cm) {
  auto r = read_node_ids(&cm, "demo-node-ids");
  EXPECT_EQ(r.error, "");
  return r.ids;
}

TEST(NodeIds, NoRecordAllocatesFromZeroInPodOrder) {
  auto r = read_node_ids(nullptr, "demo-node-ids");
  ASSERT_EQ(r.error, "");
  auto a = allocate_node_ids(r.ids, {"demo-0", "demo-1", "demo-2"});
  ASSERT_EQ(a.error, "");
  EXPECT_EQ(a.ids.by_pod, (std::map<std::string, int32_t>{{"demo-0", 0}, {"demo-1", 1}, {"demo-2", 2}}));
  EXPECT_EQ(a.ids.next, 3);
}

TEST(NodeIds, RecordedIdsAreKeptAndAReRunChangesNothing) {
  auto ids = read_ok(config_map({{"demo-0", "7"}, {"demo-1", "3"}}, {{kNextNodeIdAnnotation, "8"}}));
  auto a = allocate_node_ids(ids, {"demo-0", "demo-1"});
  EXPECT_EQ(a.ids, ids);  // level-triggered: nothing new to write
  auto again = allocate_node_ids(a.ids, {"demo-0", "demo-1"});
  EXPECT_EQ(again.ids, a.ids);
}

TEST(NodeIds, NewPodGetsTheNextIdNeverAFreedOrLowerOne) {
  // demo-1 was scaled away: its entry stays (its retained volume is that node),
  // and a new pod gets an id above everything ever handed out, not the gap 1..4.
  auto ids = read_ok(config_map({{"demo-0", "0"}, {"demo-1", "5"}}, {{kNextNodeIdAnnotation, "9"}}));
  auto a = allocate_node_ids(ids, {"demo-0", "demo-2"});
  EXPECT_EQ(a.ids.of("demo-1"), 5);
  EXPECT_EQ(a.ids.of("demo-2"), 9);
  EXPECT_EQ(a.ids.next, 10);
}

TEST(NodeIds, ScaledAwayPodComesBackWithItsOldId) {
  auto ids = read_ok(config_map({{"demo-0", "0"}, {"demo-1", "1"}}, {{kNextNodeIdAnnotation, "2"}}));
  auto a = allocate_node_ids(ids, {"demo-0", "demo-1"});
  EXPECT_EQ(a.ids.of("demo-1"), 1);
  EXPECT_EQ(a.ids.next, 2);
}

TEST(NodeIds, NextIsNeverBelowAnIdInUse) {
  // A hand edit left the annotation behind (or removed it): the next id still
  // cannot collide with a recorded one.
  auto behind = read_ok(config_map({{"demo-0", "4"}}, {{kNextNodeIdAnnotation, "2"}}));
  EXPECT_EQ(behind.next, 5);
  auto missing = read_ok(config_map({{"demo-0", "4"}}));
  EXPECT_EQ(missing.next, 5);
  EXPECT_EQ(allocate_node_ids(missing, {"demo-0", "demo-1"}).ids.of("demo-1"), 5);
}

TEST(NodeIds, MalformedRecordIsRefusedNamingTheField) {
  auto bad = [](json cm) { return read_node_ids(&cm, "demo-node-ids").error; };
  auto e = bad(config_map({{"demo-0", "seven"}}));
  EXPECT_NE(e.find("ConfigMap demo-node-ids: data[demo-0]"), std::string::npos) << e;
  EXPECT_NE(bad(config_map({{"demo-0", "-1"}})).find("data[demo-0]"), std::string::npos);
  EXPECT_NE(bad(config_map({{"demo-0", "2147483648"}})).find("data[demo-0]"), std::string::npos);
  EXPECT_NE(bad(config_map({{"demo-0", " 1"}})).find("data[demo-0]"), std::string::npos);
  EXPECT_NE(bad(config_map({{"demo-0", 1}})).find("data[demo-0]"), std::string::npos);  // not a string
  e = bad(config_map({{"demo-0", "1"}, {"demo-1", "1"}}));
  EXPECT_NE(e.find("pods demo-0 and demo-1 both have node id 1"), std::string::npos) << e;
  e = bad(config_map({{"demo-0", "1"}}, {{kNextNodeIdAnnotation, "x"}}));
  EXPECT_NE(e.find("annotation millrace.io/next-node-id"), std::string::npos) << e;
  EXPECT_NE(bad(json{{"data", "oops"}}).find("data is not a map"), std::string::npos);
}

TEST(NodeIds, LargestIdIsUsableAndThenTheSpaceIsSpent) {
  auto ids = read_ok(config_map({{"demo-0", "2147483646"}}));
  auto a = allocate_node_ids(ids, {"demo-0", "demo-1", "demo-2"});
  EXPECT_EQ(a.ids.of("demo-1"), 2147483647);
  EXPECT_FALSE(a.ids.of("demo-2"));
  EXPECT_NE(a.error.find("no node id left for pod demo-2"), std::string::npos) << a.error;
  // The spent state reads back as spent, not as malformed.
  auto cm = config_map({{"demo-1", "2147483647"}}, {{kNextNodeIdAnnotation, "2147483648"}});
  EXPECT_EQ(read_node_ids(&cm, "demo-node-ids").error, "");
}

TEST(NodeIds, VotersAreTheFirstPodsChosenOnceAndReadBack) {
  auto a = allocate_node_ids({}, {"demo-0", "demo-1", "demo-2", "demo-3"});
  auto v = choose_voters(a.ids, {"demo-0", "demo-1", "demo-2", "demo-3"}, 4);
  EXPECT_EQ(v.voters, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(pods_holding_voters(v, "demo"), 3);
  // Chosen once: a record with voters keeps them, whatever spec.brokers says.
  EXPECT_EQ(choose_voters(v, {"demo-0"}, 1).voters, v.voters);
  // Fewer than 3 brokers: one voter (two would stop on either failure).
  auto small = choose_voters(allocate_node_ids({}, {"demo-0", "demo-1"}).ids, {"demo-0", "demo-1"}, 2);
  EXPECT_EQ(small.voters, (std::vector<int32_t>{0}));
  json cm = {{"data", {{"demo-0", "0"}, {"demo-1", "1"}, {"demo-2", "2"}}},
             {"metadata", {{"annotations", {{kControllerVotersAnnotation, "2,0,1"}}}}}};
  EXPECT_EQ(read_ok(cm).voters, (std::vector<int32_t>{2, 0, 1}));
}

TEST(NodeIds, BadVotersAreRefusedNamingTheAnnotation) {
  auto bad = [](const std::string& voters) {
    json cm = {{"data", {{"demo-0", "0"}, {"demo-1", "1"}}},
               {"metadata", {{"annotations", {{kControllerVotersAnnotation, voters}}}}}};
    return read_node_ids(&cm, "demo-node-ids").error;
  };
  EXPECT_NE(bad("0,x").find("millrace.io/controller-voters"), std::string::npos);
  EXPECT_NE(bad("0,7").find("node id 7 is no pod's"), std::string::npos);
  EXPECT_NE(bad("0,0").find("named twice"), std::string::npos);
  EXPECT_NE(bad("").find("not a list"), std::string::npos);
  EXPECT_EQ(bad("1,0"), "");
}

}  // namespace
}  // namespace millrace::op
