#include "broker/config/listener_security.h"

#include <gtest/gtest.h>

namespace millrace::broker {
namespace {

const char* no_env(const char*) { return nullptr; }

ListenerSecurityParse security_of(const std::vector<std::string>& sets) {
  auto l = load_config("", "f.yaml", sets, no_env);
  EXPECT_TRUE(l.config) << (l.errors.empty() ? "" : l.errors[0]);
  if (!l.config) return {};
  return parse_listener_security(*l.config);
}

bool has_error(const ListenerSecurityParse& p, std::string_view text) {
  for (const auto& e : p.errors)
    if (e.find(text) != std::string::npos) return true;
  return false;
}

TEST(ListenerSecurity, PlaintextByDefaultAndTheControllerListenerIsPlaintextOutsideTheMap) {
  auto p = security_of({"listeners=PLAINTEXT://:9092,CONTROLLER://:9093"});
  ASSERT_TRUE(p.errors.empty()) << p.errors[0];
  ASSERT_EQ(p.listeners.size(), 2u);
  EXPECT_EQ(p.listeners[0].protocol, SecurityProtocol::kPlaintext);
  EXPECT_EQ(p.listeners[1].protocol, SecurityProtocol::kPlaintext);
}

TEST(ListenerSecurity, EveryProblemNamesItsKey) {
  EXPECT_TRUE(has_error(security_of({"listeners=PLAINTEXT://:9092,INTERNAL://:9094"}),
                        "listener.security.protocol.map: no entry for listener INTERNAL"));
  EXPECT_TRUE(has_error(security_of({"listeners=SSL://:9093"}), "set ssl.keystore.location"));
  EXPECT_TRUE(has_error(security_of({"listeners=SSL://:9093", "ssl.keystore.location=/k.pem", "ssl.keystore.key=x"}),
                        "not both"));
  EXPECT_TRUE(has_error(security_of({"listeners=SSL://:9093", "ssl.keystore.certificate.chain=x"}), "go together"));
  EXPECT_TRUE(has_error(security_of({"listeners=SSL://:9093", "ssl.keystore.location=/k.pem", "ssl.client.auth=required"}),
                        "ssl.truststore.location"));
  // Kafka's default mechanism (GSSAPI) is not served.
  EXPECT_TRUE(has_error(security_of({"listeners=SASL_PLAINTEXT://:9094"}), "sasl.enabled.mechanisms: GSSAPI"));
  EXPECT_TRUE(has_error(security_of({"listeners=SASL_PLAINTEXT://:9094", "sasl.enabled.mechanisms=PLAIN"}),
                        "listener.name.sasl_plaintext.plain.sasl.jaas.config"));
  EXPECT_TRUE(has_error(security_of({"listeners=PLAINTEXT://:9092,SSL://:9093", "ssl.keystore.location=/k.pem",
                                     "inter.broker.listener.name=SSL"}),
                        "inter.broker.listener.name"));
  EXPECT_TRUE(has_error(security_of({"listeners=PLAINTEXT://:9092,CONTROLLER://:9093",
                                     "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:SSL",
                                     "ssl.keystore.location=/k.pem"}),
                        "controller listeners are PLAINTEXT only"));
}

TEST(ListenerSecurity, PerListenerKeysOverrideTheBrokerWideOnes) {
  auto p = security_of({"listeners=EXTERNAL://:9094,PLAINTEXT://:9092",
                        "listener.security.protocol.map=EXTERNAL:SASL_SSL,PLAINTEXT:PLAINTEXT",
                        "ssl.keystore.location=/broker.pem", "listener.name.external.ssl.keystore.location=/ext.pem",
                        "listener.name.external.ssl.client.auth=requested",
                        "ssl.truststore.certificates=-----BEGIN CERTIFICATE-----",
                        "listener.name.external.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
                        "listener.name.external.plain.sasl.jaas.config=org.apache.kafka.common.security.plain."
                        "PlainLoginModule required username=\"admin\" password=\"a\" user_admin=\"a-secret\" "
                        "user_alice=\"al\\\"ice\";",
                        "connections.max.reauth.ms=60000"});
  ASSERT_TRUE(p.errors.empty()) << p.errors[0];
  ASSERT_EQ(p.listeners.size(), 2u);
  const auto& ext = p.listeners[0];
  EXPECT_EQ(ext.protocol, SecurityProtocol::kSaslSsl);
  EXPECT_EQ(ext.tls.keystore_location, "/ext.pem");
  EXPECT_EQ(ext.tls.client_auth, "requested");
  EXPECT_EQ(ext.sasl.mechanisms, (std::vector<std::string>{"SCRAM-SHA-512", "PLAIN"}));
  EXPECT_EQ(ext.sasl.plain_users, (std::map<std::string, std::string>{{"admin", "a-secret"}, {"alice", "al\"ice"}}));
  EXPECT_EQ(ext.sasl.reauth_ms, 60000);
}

TEST(ListenerSecurity, PerListenerKeysAreCheckedLikeTheirBrokerWideKey) {
  auto bad = load_config("", "f.yaml", {"listener.name.ext.ssl.client.auth=always"}, no_env);
  ASSERT_FALSE(bad.config);
  EXPECT_NE(bad.errors[0].find("listener.name.ext.ssl.client.auth"), std::string::npos) << bad.errors[0];
  auto unknown = load_config("", "f.yaml", {"listener.name.ext.log.retention.ms=1"}, no_env);
  ASSERT_FALSE(unknown.config);
  EXPECT_NE(unknown.errors[0].find("unknown config key"), std::string::npos) << unknown.errors[0];
  auto rules = load_config("", "f.yaml", {"ssl.principal.mapping.rules=RULE:^CN=(.*$"}, no_env);
  ASSERT_FALSE(rules.config);
}

}  // namespace
}  // namespace millrace::broker
