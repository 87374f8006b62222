#include "client/security_config.h"

#include <gtest/gtest.h>

#include "client/properties.h"
#include "client/tls_client.h"

namespace millrace::client {
namespace {

const char* kScramJaas =
    "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"alice-secret\";";

Error refused(const Properties& p) {
  auto r = parse_security_config(p);
  EXPECT_FALSE(r.ok());
  return r.ok() ? Error{} : r.error();
}

void expect_names(const Properties& p, const std::string& key) {
  auto e = refused(p);
  EXPECT_EQ(e.code, errc::kInvalidClientConfig);
  EXPECT_NE(e.message.find(key), std::string::npos) << e.message;
}

TEST(SecurityConfig, PlaintextByDefault) {
  auto r = parse_security_config({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->protocol, SecurityProtocol::kPlaintext);
}

TEST(SecurityConfig, SaslSslScramFromJaas) {
  auto r = parse_security_config({{"security.protocol", "sasl_ssl"},
                                  {"sasl.mechanism", "SCRAM-SHA-512"},
                                  {"sasl.jaas.config", kScramJaas},
                                  {"ssl.truststore.location", "/etc/ca.pem"}});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->protocol, SecurityProtocol::kSaslSsl);
  EXPECT_EQ(r->sasl.mechanism, "SCRAM-SHA-512");
  EXPECT_EQ(r->sasl.username, "alice");
  EXPECT_EQ(r->sasl.password, "alice-secret");
  EXPECT_EQ(r->tls.truststore_location, "/etc/ca.pem");
  EXPECT_TRUE(r->tls.verify_hostname);
}

TEST(SecurityConfig, PlainFromLibrdkafkaNames) {
  auto r = parse_security_config({{"security.protocol", "SASL_PLAINTEXT"},
                                  {"sasl.mechanism", "PLAIN"},
                                  {"sasl.username", "bob"},
                                  {"sasl.password", "pw"}});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->sasl.username, "bob");
  EXPECT_EQ(r->sasl.password, "pw");
}

TEST(SecurityConfig, MtlsWithInlinePemAndNoHostnameCheck) {
  auto r = parse_security_config({{"security.protocol", "SSL"},
                                  {"ssl.keystore.certificate.chain", "-----BEGIN CERTIFICATE-----..."},
                                  {"ssl.keystore.key", "-----BEGIN PRIVATE KEY-----..."},
                                  {"ssl.endpoint.identification.algorithm", ""},
                                  {"ssl.enabled.protocols", "TLSv1.3"}});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(r->tls.verify_hostname);
  EXPECT_FALSE(r->tls.tls12);
  EXPECT_TRUE(r->tls.tls13);
}

TEST(SecurityConfig, SslSettingsIgnoredWithoutTls) {
  auto r = parse_security_config({{"security.protocol", "PLAINTEXT"}, {"ssl.keystore.type", "JKS"}});
  EXPECT_TRUE(r.ok());
}

TEST(SecurityConfig, EachProblemNamesItsKey) {
  expect_names({{"security.protocol", "TLS"}}, "security.protocol");
  expect_names({{"security.protocol", "SSL"}, {"ssl.truststore.type", "JKS"}}, "ssl.truststore.type");
  expect_names({{"security.protocol", "SSL"}, {"ssl.keystore.type", "PKCS12"}}, "ssl.keystore.type");
  expect_names({{"security.protocol", "SSL"}, {"ssl.keystore.key", "x"}}, "ssl.keystore.certificate.chain");
  expect_names({{"security.protocol", "SSL"}, {"ssl.keystore.location", "/k.pem"}, {"ssl.keystore.key", "x"},
                {"ssl.keystore.certificate.chain", "y"}},
               "ssl.keystore.location");
  expect_names({{"security.protocol", "SSL"}, {"ssl.endpoint.identification.algorithm", "ldap"}},
               "ssl.endpoint.identification.algorithm");
  expect_names({{"security.protocol", "SSL"}, {"ssl.enabled.protocols", "TLSv1.1"}}, "ssl.enabled.protocols");
  expect_names({{"security.protocol", "SASL_SSL"}, {"sasl.jaas.config", kScramJaas}}, "sasl.mechanism");
  expect_names({{"security.protocol", "SASL_SSL"}, {"sasl.mechanism", "GSSAPI"}, {"sasl.jaas.config", kScramJaas}},
               "sasl.mechanism");
  expect_names({{"security.protocol", "SASL_SSL"}, {"sasl.mechanism", "SCRAM-SHA-256"}}, "sasl.jaas.config");
  expect_names({{"security.protocol", "SASL_SSL"}, {"sasl.mechanism", "PLAIN"}, {"sasl.jaas.config", kScramJaas}},
               "PlainLoginModule");
  expect_names({{"security.protocol", "SASL_SSL"}, {"sasl.mechanism", "SCRAM-SHA-256"},
                {"sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"a\";"}},
               "password");
  expect_names({{"security.protocol", "SASL_SSL"}, {"sasl.mechanism", "SCRAM-SHA-256"},
                {"sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"a"}},
               "sasl.jaas.config");
  expect_names({{"security.protocol", "SASL_SSL"}, {"sasl.mechanism", "SCRAM-SHA-256"},
                {"sasl.jaas.config", kScramJaas}, {"sasl.username", "x"}},
               "sasl.username");
  expect_names({{"security.protocol", "SASL_SSL"}, {"sasl.mechanism", "PLAIN"}, {"sasl.username", "x"}},
               "sasl.password");
  expect_names({{"security.protocol", "SASL_SSL"}, {"sasl.mechanism", "SCRAM-SHA-512"},
                {"sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                                     "username=\"a\" password=\"b\" tokenauth=\"true\";"}},
               "tokenauth");
}

TEST(SecurityConfig, ErrorsNeverCarryThePassword) {
  auto e = refused({{"security.protocol", "SASL_SSL"}, {"sasl.mechanism", "PLAIN"}, {"sasl.jaas.config", kScramJaas}});
  EXPECT_EQ(e.message.find("alice-secret"), std::string::npos) << e.message;
}

TEST(TlsClientContext, MissingFilesNameTheirKey) {
  TlsConfig t;
  t.truststore_location = "/nonexistent/ca.pem";
  auto r = build_client_tls_context(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::kInvalidClientConfig);
  EXPECT_NE(r.error().message.find("ssl.truststore.location /nonexistent/ca.pem"), std::string::npos)
      << r.error().message;
  TlsConfig k;
  k.truststore_certificates = "not pem";
  r = build_client_tls_context(k);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("ssl.truststore.certificates"), std::string::npos) << r.error().message;
  TlsConfig m;
  m.keystore_location = "/nonexistent/me.pem";
  r = build_client_tls_context(m);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("ssl.keystore.location"), std::string::npos) << r.error().message;
  TlsConfig n;
  n.keystore_certificate_chain = "garbage";
  n.keystore_key = "garbage";
  r = build_client_tls_context(n);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("ssl.keystore.certificate.chain"), std::string::npos) << r.error().message;
}

TEST(TlsClientContext, SystemCasWithoutATruststore) {
  EXPECT_TRUE(build_client_tls_context(TlsConfig{}).ok());
}

TEST(ClusterSecurity, ABadConfigIsEveryCallsErrorNotACrash) {
  ClientConfig c;
  c.bootstrap_servers = "127.0.0.1:1";
  c.security.protocol = SecurityProtocol::kSsl;
  c.security.tls.truststore_location = "/nonexistent/ca.pem";
  Cluster cluster(c);
  auto r = cluster.run([&]() -> asio::awaitable<Result<ClusterMetadata>> {
    co_return co_await cluster.refresh_metadata({}, true);
  }());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::kInvalidClientConfig);
  EXPECT_FALSE(is_retriable(r.error().code));
  EXPECT_TRUE(is_authentication_error(r.error().code));
  EXPECT_STREQ(error_code_name(r.error().code), "INVALID_CLIENT_CONFIG");
}

}  // namespace
}  // namespace millrace::client
