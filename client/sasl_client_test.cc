// The client's SASL exchanges against security/sasl's server side.
#include "client/sasl_client.h"

#include <gtest/gtest.h>

#include "security/sasl/plain.h"
#include "security/sasl/scram.h"

namespace millrace::client {
namespace {

namespace sasl = security::sasl;

TEST(SaslExchange, PlainTokenIsRfc4616) {
  SaslExchange x({"PLAIN", "alice", "alice-secret"});
  auto token = x.first();
  auto parsed = sasl::parse_plain(token);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->username, "alice");
  EXPECT_EQ(parsed->password, "alice-secret");
  auto done = x.next("");
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done->has_value());
  EXPECT_FALSE(x.next("").ok());   // nothing after the exchange
}

struct ScramCase {
  const char* mechanism;
  sasl::ScramMechanism m;
};

class ScramExchange : public ::testing::TestWithParam<ScramCase> {};

Result<bool> run_scram(const ScramCase& c, const std::string& stored_password, const std::string& given) {
  auto cred = sasl::make_credential(c.m, stored_password);
  EXPECT_TRUE(cred.ok());
  sasl::ScramServer server(c.m, [&](const std::string& user) -> std::optional<sasl::ScramCredential> {
    if (user == "alice") return cred.value();
    return std::nullopt;
  });
  SaslExchange x({c.mechanism, "alice", given});
  std::optional<std::string> token = x.first();
  while (token) {
    auto step = server.step(*token);
    if (!step.ok()) return Error{errc::kSaslAuthenticationFailed, "server: " + step.error().message};
    auto next = x.next(step->response);
    if (!next.ok()) return next.error();
    token = *next;
  }
  return true;
}

TEST_P(ScramExchange, AuthenticatesAndVerifiesTheServer) {
  auto r = run_scram(GetParam(), "alice-secret", "alice-secret");
  EXPECT_TRUE(r.ok()) << r.error().to_string();
}

TEST_P(ScramExchange, WrongPasswordIsRefusedByTheServer) {
  auto r = run_scram(GetParam(), "alice-secret", "wrong");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::kSaslAuthenticationFailed);
}

TEST_P(ScramExchange, AServerThatDoesNotKnowThePasswordIsRefused) {
  // The broker answers server-final with a signature of another password.
  auto cred = sasl::make_credential(GetParam().m, "alice-secret");
  ASSERT_TRUE(cred.ok());
  sasl::ScramServer server(GetParam().m, [&](const std::string&) { return std::optional(cred.value()); });
  SaslExchange x({GetParam().mechanism, "alice", "alice-secret"});
  auto first = server.step(x.first());
  ASSERT_TRUE(first.ok());
  auto final_msg = x.next(first->response);
  ASSERT_TRUE(final_msg.ok() && final_msg->has_value());
  auto bad = x.next("v=" + std::string(GetParam().m == sasl::ScramMechanism::kSha256 ? 44 : 88, 'A'));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, errc::kSaslAuthenticationFailed);
  EXPECT_NE(bad.error().message.find("server-final"), std::string::npos) << bad.error().message;
}

TEST_P(ScramExchange, ABrokerErrorInServerFirstIsRefused) {
  SaslExchange x({GetParam().mechanism, "alice", "pw"});
  (void)x.first();
  auto r = x.next("e=unknown-user");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::kSaslAuthenticationFailed);
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, ScramExchange,
                         ::testing::Values(ScramCase{"SCRAM-SHA-256", sasl::ScramMechanism::kSha256},
                                           ScramCase{"SCRAM-SHA-512", sasl::ScramMechanism::kSha512}),
                         [](const auto& info) { return info.param.m == sasl::ScramMechanism::kSha256 ? "Sha256" : "Sha512"; });

}  // namespace
}  // namespace millrace::client
