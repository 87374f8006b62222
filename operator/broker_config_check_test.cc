#include "operator/broker_config_check.h"

#include <gtest/gtest.h>

namespace millrace::op {
namespace {

TEST(BrokerConfigCheck, KnownKeysWithGoodValuesPass) {
  EXPECT_TRUE(check_broker_config({{"log.retention.ms", "86400000"}, {"auto.create.topics.enable", "false"}}).empty());
}

TEST(BrokerConfigCheck, AnUnknownKeyIsNamed) {
  auto p = check_broker_config({{"log.retention.hours", "170"}, {"log.retention.ms", "1000"}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].rfind("spec.config.log.retention.hours: not a broker config key", 0), 0u) << p[0];
}

TEST(BrokerConfigCheck, AValueTheBrokerWouldRefuseIsNamed) {
  auto p = check_broker_config({{"auto.create.topics.enable", "maybe"}, {"num.partitions", "-4"}});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].rfind("spec.config.auto.create.topics.enable: ", 0), 0u) << p[0];
  EXPECT_EQ(p[1].rfind("spec.config.num.partitions: ", 0), 0u) << p[1];
}

}  // namespace
}  // namespace millrace::op
