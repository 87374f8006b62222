// scram.h: credentials and the server exchange, against RFC 7677's
// SCRAM-SHA-256 vector and the test client (scram_client.h); then every way a
// client can fail: wrong password, unknown user, tampered nonce, channel
// binding, authzid, extensions, truncated and altered messages, out of turn.
#include "security/sasl/scram.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "security/sasl/base64.h"
#include "security/sasl/scram_client.h"

namespace millrace::security::sasl {
namespace {

// RFC 7677 section 3.
constexpr std::string_view kRfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kRfcServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kRfcServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kRfcClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kRfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
constexpr std::string_view kInvalidCredentials = "Authentication failed: Invalid user credentials";

ScramCredential rfc_credential() {
  auto salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  auto c = make_credential(ScramMechanism::kSha256, "pencil", *salt, 4096);
  EXPECT_TRUE(c.ok());
  return c.value();
}

class ScramTest : public ::testing::Test {
 protected:
  // A store keyed by (mechanism, user), as the broker's metadata holds them.
  std::map<std::pair<ScramMechanism, std::string>, ScramCredential> store_;
  std::vector<std::string> looked_up_;

  void SetUp() override {
    store_[{ScramMechanism::kSha256, "user"}] = rfc_credential();
    auto c512 = make_credential(ScramMechanism::kSha512, "s3cret", 8192);
    ASSERT_TRUE(c512.ok());
    store_[{ScramMechanism::kSha512, "alice"}] = c512.value();
    auto a256 = make_credential(ScramMechanism::kSha256, "s3cret");
    ASSERT_TRUE(a256.ok());
    store_[{ScramMechanism::kSha256, "alice"}] = a256.value();
  }

  ScramServer server(ScramMechanism m, ScramNonceSource nonce = {}) {
    return ScramServer(
        m,
        [this, m](const std::string& user) -> std::optional<ScramCredential> {
          looked_up_.push_back(user);
          auto it = store_.find({m, user});
          if (it == store_.end()) return std::nullopt;
          return it->second;
        },
        std::move(nonce));
  }
  ScramServer rfc_server() {
    return server(ScramMechanism::kSha256, [] { return std::string(kRfcServerNonce); });
  }

  // Runs client against server; returns the server's error of the step that
  // failed, or nullopt on success (with the client verifying server-final).
  std::optional<Error> exchange(ScramServer& s, ScramClient& c) {
    auto first = s.step(c.client_first());
    if (!first.ok()) return first.error();
    EXPECT_FALSE(first->complete);
    auto fin = c.client_final(first->response);
    EXPECT_TRUE(fin.ok()) << fin.error().to_string();
    if (!fin.ok()) return fin.error();
    auto last = s.step(fin.value());
    if (!last.ok()) return last.error();
    EXPECT_TRUE(last->complete);
    Status verified = c.verify_server_final(last->response);
    EXPECT_TRUE(verified.ok()) << verified.error().to_string();
    return std::nullopt;
  }
};

TEST_F(ScramTest, Rfc7677ExchangeWithFixedNonces) {
  ScramServer s = rfc_server();
  auto first = s.step(kRfcClientFirst);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(first->response, kRfcServerFirst);
  EXPECT_FALSE(first->complete);
  auto last = s.step(kRfcClientFinal);
  ASSERT_TRUE(last.ok()) << last.error().to_string();
  EXPECT_TRUE(last->complete);
  EXPECT_EQ(last->response, kRfcServerFinal);
  EXPECT_EQ(last->username, "user");
  EXPECT_TRUE(s.complete());
  EXPECT_EQ(s.username(), "user");
}

TEST_F(ScramTest, Rfc7677ClientMessages) {
  ScramClient c(ScramMechanism::kSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(c.client_first(), kRfcClientFirst);
  auto fin = c.client_final(kRfcServerFirst);
  ASSERT_TRUE(fin.ok());
  EXPECT_EQ(fin.value(), kRfcClientFinal);
  EXPECT_TRUE(c.verify_server_final(kRfcServerFinal).ok());
  EXPECT_FALSE(c.verify_server_final("v=AAAA").ok());
  EXPECT_FALSE(c.verify_server_final("e=invalid-proof").ok());
}

TEST_F(ScramTest, CredentialIsDeterministicForASalt) {
  auto salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  auto c = make_credential(ScramMechanism::kSha256, "pencil", *salt, 4096);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->salt, *salt);
  EXPECT_EQ(c->iterations, 4096);
  EXPECT_EQ(c->stored_key.size(), 32u);
  EXPECT_EQ(c->server_key.size(), 32u);
  EXPECT_EQ(c.value(), rfc_credential());
  auto other = make_credential(ScramMechanism::kSha256, "pencil2", *salt, 4096);
  EXPECT_NE(other->stored_key, c->stored_key);
}

TEST_F(ScramTest, RandomSaltsDiffer) {
  auto a = make_credential(ScramMechanism::kSha512, "pw");
  auto b = make_credential(ScramMechanism::kSha512, "pw");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->salt.size(), kScramSaltBytes);
  EXPECT_NE(a->salt, b->salt);
  EXPECT_EQ(a->stored_key.size(), 64u);
  EXPECT_EQ(a->iterations, kScramMinIterations);
}

TEST_F(ScramTest, IterationsAreBounded) {
  const uint8_t salt[] = {1, 2, 3};
  EXPECT_TRUE(make_credential(ScramMechanism::kSha256, "pw", salt, kScramMinIterations).ok());
  EXPECT_TRUE(make_credential(ScramMechanism::kSha256, "pw", salt, kScramMaxIterations).ok());
  for (int32_t bad : {0, -1, kScramMinIterations - 1, kScramMaxIterations + 1}) {
    auto c = make_credential(ScramMechanism::kSha256, "pw", salt, bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.error().code, Errc::kInvalidArgument);
  }
  auto empty_salt = make_credential(ScramMechanism::kSha256, "pw", std::span<const uint8_t>(), 4096);
  EXPECT_FALSE(empty_salt.ok());
}

TEST_F(ScramTest, MechanismNames) {
  EXPECT_EQ(parse_scram_mechanism("SCRAM-SHA-256"), ScramMechanism::kSha256);
  EXPECT_EQ(parse_scram_mechanism("SCRAM-SHA-512"), ScramMechanism::kSha512);
  EXPECT_FALSE(parse_scram_mechanism("SCRAM-SHA-1").has_value());
  EXPECT_EQ(mechanism_name(ScramMechanism::kSha512), "SCRAM-SHA-512");
}

TEST_F(ScramTest, FullSha512Exchange) {
  ScramServer s = server(ScramMechanism::kSha512);
  ScramClient c(ScramMechanism::kSha512, "alice", "s3cret");
  EXPECT_EQ(exchange(s, c), std::nullopt);
  EXPECT_TRUE(s.complete());
  EXPECT_EQ(s.username(), "alice");
}

TEST_F(ScramTest, FullSha256ExchangeWithRandomNonces) {
  ScramServer s = server(ScramMechanism::kSha256);
  ScramClient c(ScramMechanism::kSha256, "alice", "s3cret");
  EXPECT_EQ(exchange(s, c), std::nullopt);
}

TEST_F(ScramTest, WrongPasswordFails) {
  ScramServer s = server(ScramMechanism::kSha512);
  ScramClient c(ScramMechanism::kSha512, "alice", "wrong");
  auto err = exchange(s, c);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, Errc::kAuthenticationFailed);
  EXPECT_EQ(err->message, kInvalidCredentials);
  EXPECT_TRUE(s.failed());
}

TEST_F(ScramTest, MechanismMismatchFails) {
  // alice's SHA-256 password used with a SHA-512 client against a SHA-256 server.
  ScramServer s = server(ScramMechanism::kSha256);
  ScramClient c(ScramMechanism::kSha512, "alice", "s3cret");
  auto first = s.step(c.client_first());
  ASSERT_TRUE(first.ok());
  auto fin = c.client_final(first->response);
  ASSERT_TRUE(fin.ok());
  auto last = s.step(fin.value());
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().code, Errc::kAuthenticationFailed);
}

TEST_F(ScramTest, UnknownUserLooksLikeWrongPassword) {
  ScramServer s1 = server(ScramMechanism::kSha256, [] { return std::string("S"); });
  auto first1 = s1.step("n,,n=mallory,r=abc");
  ASSERT_TRUE(first1.ok()) << first1.error().to_string();
  ScramServer s2 = server(ScramMechanism::kSha256, [] { return std::string("S"); });
  auto first2 = s2.step("n,,n=mallory,r=abc");
  ASSERT_TRUE(first2.ok());
  // Same shape as a known user's, and a stable salt across attempts.
  EXPECT_EQ(first1->response, first2->response);
  EXPECT_TRUE(first1->response.starts_with("r=abcS,s=")) << first1->response;
  EXPECT_TRUE(first1->response.ends_with(",i=4096")) << first1->response;
  ScramServer s3 = server(ScramMechanism::kSha256, [] { return std::string("S"); });
  auto other = s3.step("n,,n=mallory2,r=abc");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->response, first1->response);

  ScramServer s = server(ScramMechanism::kSha256);
  ScramClient c(ScramMechanism::kSha256, "mallory", "anything");
  auto err = exchange(s, c);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, Errc::kAuthenticationFailed);
  EXPECT_EQ(err->message, kInvalidCredentials);
}

TEST_F(ScramTest, UnusableStoredCredentialFailsLikeUnknownUser) {
  auto bad = rfc_credential();
  bad.iterations = 100;  // below Kafka's minimum
  store_[{ScramMechanism::kSha256, "user"}] = bad;
  ScramServer s = rfc_server();
  auto first = s.step(kRfcClientFirst);
  ASSERT_TRUE(first.ok());
  EXPECT_NE(first->response, kRfcServerFirst);
  auto last = s.step(kRfcClientFinal);
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().message, kInvalidCredentials);
}

TEST_F(ScramTest, TamperedNonceFails) {
  ScramServer s = rfc_server();
  ASSERT_TRUE(s.step(kRfcClientFirst).ok());
  std::string tampered(kRfcClientFinal);
  tampered.replace(tampered.find("$k0"), 3, "$k1");
  auto r = s.step(tampered);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kAuthenticationFailed);
  EXPECT_NE(r.error().message.find("nonce"), std::string::npos);
}

TEST_F(ScramTest, ClientNonceOnlyFails) {
  ScramServer s = rfc_server();
  ASSERT_TRUE(s.step(kRfcClientFirst).ok());
  auto r = s.step("c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  EXPECT_FALSE(r.ok());
}

TEST_F(ScramTest, ChannelBindingRefused) {
  for (std::string_view m : std::initializer_list<std::string_view>{"p=tls-server-end-point,,n=user,r=abc", "y,,n=user,r=abc"}) {
    ScramServer s = rfc_server();
    auto r = s.step(m);
    ASSERT_FALSE(r.ok()) << m;
    EXPECT_EQ(r.error().code, Errc::kUnsupported);
    EXPECT_TRUE(s.failed());
  }
  EXPECT_TRUE(looked_up_.empty());
}

TEST_F(ScramTest, ChannelBindingDataMustMatchGs2Header) {
  ScramServer s = rfc_server();
  ASSERT_TRUE(s.step(kRfcClientFirst).ok());
  std::string final_msg(kRfcClientFinal);
  final_msg.replace(0, 6, "c=eSws");  // base64("y,,")
  auto r = s.step(final_msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kAuthenticationFailed);
}

TEST_F(ScramTest, AuthzidEqualToUserIsAccepted) {
  ScramServer s = server(ScramMechanism::kSha512);
  ScramClient c(ScramMechanism::kSha512, "alice", "s3cret", {}, "alice");
  EXPECT_TRUE(c.client_first().starts_with("n,a=alice,n=alice,"));
  EXPECT_EQ(exchange(s, c), std::nullopt);
}

TEST_F(ScramTest, AuthzidDifferentFromUserIsRefused) {
  ScramServer s = server(ScramMechanism::kSha512);
  ScramClient c(ScramMechanism::kSha512, "alice", "s3cret", {}, "admin");
  auto err = exchange(s, c);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, Errc::kAuthenticationFailed);
  EXPECT_EQ(err->message,
            "Authentication failed: Client requested an authorization id that is different from username");
}

TEST_F(ScramTest, TokenAuthRefused) {
  ScramServer s = rfc_server();
  auto r = s.step("n,,n=user,r=abc,tokenauth=true");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  EXPECT_NE(r.error().message.find("Delegation token"), std::string::npos);
}

TEST_F(ScramTest, UnknownExtensionRefused) {
  ScramServer s = rfc_server();
  auto r = s.step("n,,n=user,r=abc,foo=bar");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
}

TEST_F(ScramTest, EscapedUserNameIsDecodedForLookup) {
  store_[{ScramMechanism::kSha512, "a,b=c"}] = store_[{ScramMechanism::kSha512, "alice"}];
  ScramServer s = server(ScramMechanism::kSha512);
  ScramClient c(ScramMechanism::kSha512, "a,b=c", "s3cret");
  EXPECT_TRUE(c.client_first().starts_with("n,,n=a=2Cb=3Dc,r="));
  EXPECT_EQ(exchange(s, c), std::nullopt);
  EXPECT_EQ(s.username(), "a,b=c");
  EXPECT_EQ(looked_up_, std::vector<std::string>{"a,b=c"});
}

TEST_F(ScramTest, EveryTruncationOfClientFinalFails) {
  for (size_t n = 0; n < kRfcClientFinal.size(); ++n) {
    ScramServer s = rfc_server();
    ASSERT_TRUE(s.step(kRfcClientFirst).ok());
    EXPECT_FALSE(s.step(kRfcClientFinal.substr(0, n)).ok()) << n;
  }
}

TEST_F(ScramTest, EveryTruncationOfClientFirstFailsTheExchange) {
  // A prefix that still parses (a shorter nonce) must fail at client-final.
  for (size_t n = 0; n < kRfcClientFirst.size(); ++n) {
    ScramServer s = rfc_server();
    auto first = s.step(kRfcClientFirst.substr(0, n));
    if (first.ok()) {
      EXPECT_GE(n, std::string_view("n,,n=user,r=r").size()) << n;
      EXPECT_FALSE(s.step(kRfcClientFinal).ok()) << n;
    } else {
      EXPECT_TRUE(s.failed());
    }
    EXPECT_FALSE(s.complete()) << n;
  }
}

TEST_F(ScramTest, EveryByteChangeOfClientFinalFails) {
  for (size_t i = 0; i < kRfcClientFinal.size(); ++i) {
    for (uint8_t delta : {1, 0x20, 0x80}) {
      std::string m(kRfcClientFinal);
      m[i] = static_cast<char>(static_cast<uint8_t>(m[i]) ^ delta);
      ScramServer s = rfc_server();
      ASSERT_TRUE(s.step(kRfcClientFirst).ok());
      EXPECT_FALSE(s.step(m).ok()) << i << " " << int{delta};
    }
  }
}

TEST_F(ScramTest, StepAfterCompletionIsIllegal) {
  ScramServer s = rfc_server();
  ASSERT_TRUE(s.step(kRfcClientFirst).ok());
  ASSERT_TRUE(s.step(kRfcClientFinal).ok());
  auto r = s.step(kRfcClientFinal);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kIllegalState);
  EXPECT_TRUE(s.complete());
}

TEST_F(ScramTest, StepAfterFailureIsIllegal) {
  ScramServer s = rfc_server();
  ASSERT_FALSE(s.step("garbage").ok());
  auto r = s.step(kRfcClientFirst);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kIllegalState);
}

TEST_F(ScramTest, ClientFinalFirstIsMalformed) {
  ScramServer s = rfc_server();
  auto r = s.step(kRfcClientFinal);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kMalformed);
}

TEST_F(ScramTest, OversizedMessageRefused) {
  ScramServer s = rfc_server();
  auto r = s.step("n,,n=user,r=" + std::string(kMaxScramMessageBytes, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kMalformed);
}

TEST_F(ScramTest, ThrowingLookupIsAnErrorValue) {
  ScramServer s(ScramMechanism::kSha256,
                [](const std::string&) -> std::optional<ScramCredential> { throw std::runtime_error("store down"); });
  auto r = s.step(kRfcClientFirst);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInternal);
}

TEST_F(ScramTest, BadNonceSourceIsAnErrorValue) {
  ScramServer s = server(ScramMechanism::kSha256, [] { return std::string("has,comma"); });
  auto r = s.step(kRfcClientFirst);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInternal);
}

}  // namespace
}  // namespace millrace::security::sasl
