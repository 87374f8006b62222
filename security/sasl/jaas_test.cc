#include "security/sasl/jaas.h"

#include <gtest/gtest.h>

namespace millrace::security::sasl {
namespace {

TEST(Jaas, ScramModuleWithQuotedOptions) {
  auto r = parse_jaas(R"(org.apache.kafka.common.security.scram.ScramLoginModule required
      username="alice" password="a \"quoted\" p=w;d";)");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front().login_module, kScramLoginModule);
  EXPECT_EQ(r->front().flag, "required");
  EXPECT_EQ(r->front().options.at("username"), "alice");
  EXPECT_EQ(r->front().options.at("password"), "a \"quoted\" p=w;d");
}

TEST(Jaas, UnquotedValuesAndSeveralModules) {
  auto r = parse_jaas("a.B optional x=1; c.D sufficient;");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(r->at(0).options.at("x"), "1");
  EXPECT_TRUE(r->at(1).options.empty());
}

TEST(Jaas, RefusesWhatJavaRefuses) {
  for (const char* text : {"", "   ", "a.B", "a.B mandatory;", "a.B required user=\"x\"", "a.B required user=\"x;",
                           "a.B required user;", "a.B required =x;", "a.B required user=;"}) {
    auto r = parse_jaas(text);
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, Errc::kMalformed) << text;
      EXPECT_NE(r.error().message.find("sasl.jaas.config"), std::string::npos) << r.error().message;
    }
  }
}

TEST(Jaas, ErrorNeverQuotesTheValue) {
  auto r = parse_jaas("a.B required password=\"s3cret");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("s3cret"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace millrace::security::sasl
