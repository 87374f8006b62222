// plain.h: SASL/PLAIN messages accepted and each refusal with Kafka's message.
#include "security/sasl/plain.h"

#include <gtest/gtest.h>

namespace millrace::security::sasl {
namespace {

using namespace std::string_literals;

TEST(PlainTest, ParsesWithoutAuthzid) {
  auto r = parse_plain("\0alice\0secret"s);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->username, "alice");
  EXPECT_EQ(r->password, "secret");
}

TEST(PlainTest, AcceptsAuthzidEqualToUser) {
  auto r = parse_plain("alice\0alice\0secret"s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->username, "alice");
}

TEST(PlainTest, RefusesAuthzidDifferentFromUser) {
  auto r = parse_plain("admin\0alice\0secret"s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kAuthenticationFailed);
  EXPECT_EQ(r.error().message,
            "Authentication failed: Client requested an authorization id that is different from username");
}

TEST(PlainTest, RefusesEmptyUser) {
  auto r = parse_plain("\0\0secret"s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().message, "Authentication failed: username not specified");
}

TEST(PlainTest, RefusesEmptyPassword) {
  auto r = parse_plain("\0alice\0"s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "Authentication failed: password not specified");
}

TEST(PlainTest, RefusesWrongNumberOfNuls) {
  for (std::string m : {""s, "alice"s, "alice\0secret"s, "\0alice\0secret\0"s, "a\0b\0c\0d"s}) {
    auto r = parse_plain(m);
    ASSERT_FALSE(r.ok()) << m.size();
    EXPECT_EQ(r.error().code, Errc::kMalformed);
    EXPECT_TRUE(r.error().message.starts_with("Invalid SASL/PLAIN response: expected 3 tokens")) << r.error().message;
  }
}

TEST(PlainTest, BoundsTheMessage) {
  std::string at_bound = "\0alice\0"s + std::string(kMaxPlainMessageBytes - 7, 'p');
  ASSERT_EQ(at_bound.size(), kMaxPlainMessageBytes);
  EXPECT_TRUE(parse_plain(at_bound).ok());
  auto r = parse_plain(at_bound + "p");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kMalformed);
}

TEST(PlainTest, PasswordMayHoldAnyByteButNul) {
  auto r = parse_plain("\0alice\0p\xff,=\n"s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->password, "p\xff,=\n");
}

TEST(PlainTest, EveryTruncationOfAValidMessageIsAnError) {
  std::string m = "\0alice\0secret"s;
  for (size_t n = 0; n < 8; ++n) EXPECT_FALSE(parse_plain(std::string_view(m).substr(0, n)).ok()) << n;
}

}  // namespace
}  // namespace millrace::security::sasl
