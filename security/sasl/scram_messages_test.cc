// scram_messages.h: what each SCRAM message parser accepts and refuses.
#include "security/sasl/scram_messages.h"

#include "security/sasl/scram.h"

#include <gtest/gtest.h>

namespace millrace::security::sasl::scram {
namespace {

TEST(ScramMessagesTest, SaslnameEscaping) {
  EXPECT_EQ(escape_saslname("a,b=c"), "a=2Cb=3Dc");
  auto u = unescape_saslname("a=2Cb=3Dc");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value(), "a,b=c");
  for (std::string_view bad : std::initializer_list<std::string_view>{"", "a=", "a=2", "a=2c", "a=41", "=", std::string_view("a\0b", 3)}) {
    EXPECT_FALSE(unescape_saslname(bad).ok()) << bad;
  }
}

TEST(ScramMessagesTest, ClientFirst) {
  auto m = parse_client_first("n,,n=us=2Cer,r=abc");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->gs2_header, "n,,");
  EXPECT_EQ(m->username, "us,er");
  EXPECT_EQ(m->nonce, "abc");
  EXPECT_EQ(m->bare, "n=us=2Cer,r=abc");
  EXPECT_TRUE(m->authzid.empty());

  auto a = parse_client_first("n,a=bob,n=bob,r=x,tokenauth=false");
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->gs2_header, "n,a=bob,");
  EXPECT_EQ(a->authzid, "bob");
}

TEST(ScramMessagesTest, ClientFirstRefusals) {
  struct Case {
    std::string_view message;
    Errc code;
  };
  const Case cases[] = {
      {"p=tls-unique,,n=u,r=x", Errc::kUnsupported},
      {"y,,n=u,r=x", Errc::kUnsupported},
      {"n,,m=ext,n=u,r=x", Errc::kUnsupported},
      {"n,,n=u,r=x,tokenauth=true", Errc::kUnsupported},
      {"n,,n=u,r=x,tokenauth=TRUE", Errc::kUnsupported},
      {"n,,n=u,r=x,foo=bar", Errc::kUnsupported},
      {"n,,n=u,r=x,tokenauth=false,tokenauth=false", Errc::kMalformed},
      {"n,,n=u,r=x,", Errc::kMalformed},
      {"n,,n=u,r=x,=v", Errc::kMalformed},
      {"n,,n=u,r=x,k=", Errc::kMalformed},
      {"n,,n=u,r=x,k1=v", Errc::kMalformed},
      {"n,,n=u,r=", Errc::kMalformed},
      {"n,,n=u,r=a b", Errc::kMalformed},
      {"n,,n=,r=x", Errc::kMalformed},
      {"n,,n=u=,r=x", Errc::kMalformed},
      {"n,,r=x,n=u", Errc::kMalformed},
      {"n,,n=u", Errc::kMalformed},
      {"n,a=,n=u,r=x", Errc::kMalformed},
      {"n,b=u,n=u,r=x", Errc::kMalformed},
      {"n,", Errc::kMalformed},
      {"n", Errc::kMalformed},
      {"", Errc::kMalformed},
      {"x,,n=u,r=x", Errc::kMalformed},
  };
  for (const auto& c : cases) {
    auto r = parse_client_first(c.message);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.error().code, c.code) << c.message << ": " << r.error().message;
  }
}

TEST(ScramMessagesTest, ServerFirst) {
  auto m = parse_server_first("r=abc,s=QSXCR+Q6sek8bf92,i=4096");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->nonce, "abc");
  EXPECT_EQ(m->iterations, 4096);
  EXPECT_EQ(format_server_first(m.value()), "r=abc,s=QSXCR+Q6sek8bf92,i=4096");
  for (std::string_view bad : std::initializer_list<std::string_view>{"r=abc,s=QSXCR+Q6sek8bf92,i=0", "r=abc,s=QSXCR+Q6sek8bf92,i=-1",
                               "r=abc,s=QSXCR+Q6sek8bf92,i=04096", "r=abc,s=QSXCR+Q6sek8bf92,i=99999999999",
                               "r=abc,s=QSXCR+Q6sek8bf92,i=", "r=abc,s=,i=4096", "r=abc,s=QSX,i=4096",
                               "r=abc,i=4096,s=QSXCR+Q6sek8bf92", "m=x,r=abc,s=QSXCR+Q6sek8bf92,i=4096",
                               "r=abc,s=QSXCR+Q6sek8bf92,i=4096,x=y", ""}) {
    EXPECT_FALSE(parse_server_first(bad).ok()) << bad;
  }
}

TEST(ScramMessagesTest, ClientFinal) {
  auto m = parse_client_final("c=biws,r=abc,p=AAAA");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(std::string(m->channel_binding.begin(), m->channel_binding.end()), "n,,");
  EXPECT_EQ(m->nonce, "abc");
  EXPECT_EQ(m->proof.size(), 3u);
  EXPECT_EQ(m->without_proof, "c=biws,r=abc");
  for (std::string_view bad : std::initializer_list<std::string_view>{"c=biws,r=abc", "c=biws,r=abc,p=", "c=biws,r=abc,p=AAA", "c=biw,r=abc,p=AAAA",
                               "r=abc,c=biws,p=AAAA", "c=biws,r=abc,x=y,p=AAAA", "c=biws,r=,p=AAAA",
                               "c=biws,r=abc,p=AAAA,", ""}) {
    EXPECT_FALSE(parse_client_final(bad).ok()) << bad;
  }
}

TEST(ScramMessagesTest, ServerFinal) {
  auto v = parse_server_final("v=AAAA");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->signature.size(), 3u);
  auto e = parse_server_final("e=invalid-proof");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->error, "invalid-proof");
  for (std::string_view bad : std::initializer_list<std::string_view>{"", "v=", "e=", "v=AAAA,x=y", "x=AAAA"}) EXPECT_FALSE(parse_server_final(bad).ok()) << bad;
}

TEST(ScramMessagesTest, BoundsMessageSize) {
  std::string long_nonce(kMaxScramMessageBytes, 'x');
  EXPECT_FALSE(parse_client_first("n,,n=u,r=" + long_nonce).ok());
  EXPECT_FALSE(parse_client_final("c=biws,r=" + long_nonce + ",p=AAAA").ok());
  EXPECT_FALSE(parse_server_first("r=" + long_nonce + ",s=AAAA,i=4096").ok());
}

}  // namespace
}  // namespace millrace::security::sasl::scram
