#include "operator/broker_rates.h"

#include <gtest/gtest.h>

namespace millrace::op {
namespace {

MillraceSpec spec() {
  return parse_millrace({{"metadata", {{"name", "m"}, {"namespace", "prod"}}}, {"spec", {{"brokers", 3}}}});
}

TEST(BrokerRates, InAClusterAPodIsReachedByItsDnsNameAndTheSpecsAdminPort) {
  json pod = {{"metadata", {{"name", "m-2"}, {"annotations", {{"millrace.io/admin-port", "1234"}}}}},
              {"status", {{"podIP", "10.0.0.9"}}}};
  EXPECT_EQ(admin_address(pod, spec(), KafkaAddressing::kService), "m-2.m-brokers.prod.svc:9644");
}

TEST(BrokerRates, InTheTestClusterByItsIpAndTheAnnouncedPort) {
  json pod = {{"metadata", {{"name", "m-2"}, {"annotations", {{"millrace.io/admin-port", "31644"}}}}},
              {"status", {{"podIP", "127.0.0.1"}}}};
  EXPECT_EQ(admin_address(pod, spec(), KafkaAddressing::kPodIp), "127.0.0.1:31644");
  pod["metadata"].erase("annotations");
  EXPECT_EQ(admin_address(pod, spec(), KafkaAddressing::kPodIp), "127.0.0.1:9644");  // none announced: the spec's
  pod.erase("status");
  EXPECT_EQ(admin_address(pod, spec(), KafkaAddressing::kPodIp), "");  // no IP yet
}

}  // namespace
}  // namespace millrace::op
