// KafkaAccess passes the operator's client security on to every admin client.
#include "operator/kafka_access.h"

#include <gtest/gtest.h>

#include "client/properties.h"

namespace millrace::op {
namespace {

TEST(KafkaAccessSecurity, AdminClientConfigCarriesTheSecurity) {
  auto props = client::parse_properties(
      "security.protocol=SASL_SSL\n"
      "sasl.mechanism=SCRAM-SHA-512\n"
      "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
      "username=\"operator\" password=\"op-secret\";\n"
      "ssl.truststore.location=/etc/millrace/ca.pem\n");
  auto security = client::parse_security_config(props);
  ASSERT_TRUE(security.ok()) << security.error().to_string();
  auto cfg = admin_client_config("demo-bootstrap.ns.svc:9094", *security);
  EXPECT_EQ(cfg.bootstrap_servers, "demo-bootstrap.ns.svc:9094");
  EXPECT_EQ(cfg.client_id, "millrace-operator");
  EXPECT_EQ(cfg.security.protocol, client::SecurityProtocol::kSaslSsl);
  EXPECT_EQ(cfg.security.sasl.mechanism, "SCRAM-SHA-512");
  EXPECT_EQ(cfg.security.sasl.username, "operator");
  EXPECT_EQ(cfg.security.sasl.password, "op-secret");
  EXPECT_EQ(cfg.security.tls.truststore_location, "/etc/millrace/ca.pem");
  EXPECT_TRUE(cfg.security.tls.verify_hostname);
  // The handshake and the exchange get more room than a plaintext connect.
  EXPECT_GT(cfg.connect_timeout, admin_client_config("h:9092", {}).connect_timeout);
  EXPECT_EQ(admin_client_config("h:9092", {}).security.protocol, client::SecurityProtocol::kPlaintext);
}

TEST(KafkaAccessSecurity, PerClusterSecurityWinsOverTheDefault) {
  KafkaClientSecurity s;
  s.all.protocol = client::SecurityProtocol::kSsl;
  EXPECT_EQ(s.for_cluster(json::object()).protocol, client::SecurityProtocol::kSsl);
  s.security_for = [](const json& millrace) {
    client::SecurityConfig c;
    if (millrace["metadata"].value("name", "") == "secure") c.protocol = client::SecurityProtocol::kSaslSsl;
    return c;
  };
  EXPECT_EQ(s.for_cluster(json{{"metadata", {{"name", "secure"}}}}).protocol, client::SecurityProtocol::kSaslSsl);
  EXPECT_EQ(s.for_cluster(json{{"metadata", {{"name", "other"}}}}).protocol, client::SecurityProtocol::kPlaintext);
}

}  // namespace
}  // namespace millrace::op
