#include "client/properties.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace millrace::client {
namespace {

TEST(Properties, JavaSyntax) {
  auto p = parse_properties(
      "# a comment\n"
      "! another\n"
      "security.protocol=SASL_SSL\n"
      "  sasl.mechanism : SCRAM-SHA-512\n"
      "client.id millrace-app\n"
      "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n"
      "    username=\"alice\" \\\n"
      "    password=\"a\\\\b\";\n"
      "key\\=with\\:seps=v\\tx\\u0041\r\n"
      "empty\n"
      "dup=1\n"
      "dup=2");
  EXPECT_EQ(p["security.protocol"], "SASL_SSL");
  EXPECT_EQ(p["sasl.mechanism"], "SCRAM-SHA-512");
  EXPECT_EQ(p["client.id"], "millrace-app");
  EXPECT_EQ(p["sasl.jaas.config"],
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"a\\b\";");
  EXPECT_EQ(p["key=with:seps"], "v\txA");
  EXPECT_TRUE(p.count("empty"));
  EXPECT_EQ(p["empty"], "");
  EXPECT_EQ(p["dup"], "2");
  EXPECT_FALSE(p.count("# a comment"));
}

TEST(Properties, ACommentDoesNotContinue) {
  auto p = parse_properties("# ends in \\\na=1\n");
  EXPECT_EQ(p.size(), 1u);
  EXPECT_EQ(p["a"], "1");
}

TEST(Properties, ApplyKnownKeysAndListTheRest) {
  ClientConfig c;
  auto r = apply_properties({{"bootstrap.servers", "h1:9093,h2:9093"},
                             {"client.id", "app"},
                             {"request.timeout.ms", "5000"},
                             {"security.protocol", "SSL"},
                             {"linger.ms", "5"},
                             {"acks", "all"}},
                            c);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(c.bootstrap_servers, "h1:9093,h2:9093");
  EXPECT_EQ(c.client_id, "app");
  EXPECT_EQ(c.request_timeout.count(), 5000);
  EXPECT_EQ(c.security.protocol, SecurityProtocol::kSsl);
  EXPECT_EQ(*r, (std::vector<std::string>{"acks", "linger.ms"}));
}

TEST(Properties, ApplyRefusesBadValuesByName) {
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"request.timeout.ms", "soon"}, {"bootstrap.servers", "nohost"}, {"security.protocol", "SASL"}}) {
    ClientConfig c;
    auto r = apply_properties({{key, value}}, c);
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_EQ(r.error().code, errc::kInvalidClientConfig);
    EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
  }
}

TEST(Properties, UnreadableFileIsNamed) {
  auto r = load_properties_file("/nonexistent/client.properties");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/client.properties"), std::string::npos);
  const std::string path = ::testing::TempDir() + "/client.properties";
  std::ofstream(path) << "security.protocol=SSL\n";
  auto ok = load_properties_file(path);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["security.protocol"], "SSL");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace millrace::client
