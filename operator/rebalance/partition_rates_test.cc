#include "operator/rebalance/partition_rates.h"

#include <gtest/gtest.h>

namespace millrace::op::rebalance {
namespace {

// What a broker serves, trimmed: other families around the two, as prometheus-cpp writes them.
constexpr const char* kExposition = R"(# HELP millrace_topic_bytes_in_total Record batch bytes produced, by topic
# TYPE millrace_topic_bytes_in_total counter
millrace_topic_bytes_in_total{topic="orders"} 9000
# HELP millrace_partition_bytes_in_total Record batch bytes produced to the partitions this broker leads
# TYPE millrace_partition_bytes_in_total counter
millrace_partition_bytes_in_total{partition="0",topic="orders"} 1500
millrace_partition_bytes_in_total{topic="orders",partition="1"} 2500 1700000000000
# TYPE millrace_partition_bytes_out_total counter
millrace_partition_bytes_out_total{topic="orders",partition="0"} 3e3
millrace_request_duration_seconds_bucket{api="Produce",le="+Inf"} 12
millrace_up 1

)";

TEST(PartitionRates, ReadsBothFamiliesAndIgnoresTheRest) {
  auto r = parse_partition_counters(kExposition);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.counters.size(), 2u);
  EXPECT_EQ(r.counters.at({"orders", 0}).in, 1500);
  EXPECT_EQ(r.counters.at({"orders", 0}).out, 3000);
  EXPECT_EQ(r.counters.at({"orders", 1}).in, 2500);  // labels in another order, a timestamp
  EXPECT_EQ(r.counters.at({"orders", 1}).out, 0);
}

TEST(PartitionRates, EscapedLabelValuesAndOtherLabels) {
  auto r = parse_partition_counters(
      "millrace_partition_bytes_in_total{ instance=\"b-0\" , topic=\"we\\\"ird\\\\na\\nme\",partition=\"7\",} 10\r\n");
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.counters.size(), 1u);
  EXPECT_EQ(r.counters.begin()->first, (TopicPartition{"we\"ird\\na\nme", 7}));
  EXPECT_EQ(r.counters.begin()->second.in, 10);
}

TEST(PartitionRates, AnEmptyExpositionHasNoCounters) {
  auto r = parse_partition_counters("");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.counters.empty());
  EXPECT_TRUE(parse_partition_counters("# only a comment\n\n").counters.empty());
}

TEST(PartitionRates, GarbageIsRefusedNamingTheLine) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"<html>502 Bad Gateway</html>", "line 1: no metric name"},
      {"up 1\nhello world", "line 2: value 'world' is not a number"},
      {"millrace_up", "line 1: no space before the value"},
      {"m{topic=\"a} 1", "line 1: label topic value not closed"},
      {"m{topic=a} 1", "line 1: label topic value not quoted"},
      {"m{topic=\"a\\x\"} 1", "line 1: label topic has a bad escape"},
      {"m{topic=\"a\" partition=\"1\"} 1", "line 1: labels not separated by ','"},
      {"m{topic=\"a\",topic=\"b\"} 1", "line 1: label topic twice"},
      {"m 1 12x", "line 1: text after the timestamp"},
      {"millrace_partition_bytes_in_total{partition=\"1\"} 5",
       "line 1: millrace_partition_bytes_in_total without a topic label"},
      {"millrace_partition_bytes_out_total{topic=\"a\"} 5",
       "line 1: millrace_partition_bytes_out_total without a partition label"},
      {"millrace_partition_bytes_in_total{topic=\"a\",partition=\"1x\"} 5",
       "line 1: millrace_partition_bytes_in_total partition '1x' is not a partition number"},
      {"millrace_partition_bytes_in_total{topic=\"a\",partition=\"-1\"} 5",
       "line 1: millrace_partition_bytes_in_total partition '-1' is not a partition number"},
      {"millrace_partition_bytes_in_total{topic=\"a\",partition=\"1\"} NaN",
       "line 1: millrace_partition_bytes_in_total value must be finite and not negative"},
      {"millrace_partition_bytes_in_total{topic=\"a\",partition=\"1\"} -4",
       "line 1: millrace_partition_bytes_in_total value must be finite and not negative"},
      {"millrace_partition_bytes_in_total{topic=\"a\",partition=\"1\"} 4\n"
       "millrace_partition_bytes_in_total{partition=\"1\",topic=\"a\"} 5",
       "line 2: millrace_partition_bytes_in_total a-1 twice"},
  };
  for (const Case& c : cases) {
    auto r = parse_partition_counters(c.text);
    EXPECT_EQ(r.error, c.error) << c.text;
    EXPECT_TRUE(r.counters.empty()) << c.text;
  }
  // Bytes that are no text at all: refused, not thrown.
  const std::string binary("\x00\xff\x1f{\"", 5);
  EXPECT_FALSE(parse_partition_counters(binary).ok());
}

TEST(PartitionRates, RatesAreDeltasOverSeconds) {
  CounterSample a{1000, {{{"t", 0}, {100, 50}}, {{"t", 1}, {0, 0}}}};
  CounterSample b{5000, {{{"t", 0}, {500, 450}}, {{"t", 1}, {40, 0}}}};
  auto r = rates_between(a, b);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_DOUBLE_EQ(r.at({"t", 0}).in, 100);  // 400 bytes over 4 s
  EXPECT_DOUBLE_EQ(r.at({"t", 0}).out, 100);
  EXPECT_DOUBLE_EQ(r.at({"t", 1}).in, 10);
}

TEST(PartitionRates, ACounterThatWentDownCountsFromZero) {
  // The broker restarted between the samples: what it counted since, over the interval.
  CounterSample a{0, {{{"t", 0}, {10000, 8000}}}};
  CounterSample b{2000, {{{"t", 0}, {600, 9000}}}};
  auto r = rates_between(a, b);
  EXPECT_DOUBLE_EQ(r.at({"t", 0}).in, 300);  // 600 / 2 s, not (600 - 10000) / 2
  EXPECT_DOUBLE_EQ(r.at({"t", 0}).out, 500);  // this one did not go down
}

TEST(PartitionRates, PartitionsNewOrGoneAndSamplesOutOfOrder) {
  CounterSample a{0, {{{"gone", 0}, {5, 5}}}};
  CounterSample b{1000, {{{"new", 0}, {70, 0}}}};
  auto r = rates_between(a, b);
  EXPECT_EQ(r.count({"gone", 0}), 0u);
  EXPECT_DOUBLE_EQ(r.at({"new", 0}).in, 70);
  EXPECT_TRUE(rates_between(b, a).empty());  // not later: no rates
  EXPECT_TRUE(rates_between(b, b).empty());
}

}  // namespace
}  // namespace millrace::op::rebalance
