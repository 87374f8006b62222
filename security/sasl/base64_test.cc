// base64.h: RFC 4648 test vectors, round trips, and every way strict decoding
// refuses input.
#include "security/sasl/base64.h"

#include <gtest/gtest.h>

namespace millrace::security::sasl {
namespace {

std::string decode_str(std::string_view s) {
  auto d = base64_decode(s);
  EXPECT_TRUE(d.has_value()) << s;
  return d ? std::string(d->begin(), d->end()) : std::string();
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : cases) {
    EXPECT_EQ(base64_encode(std::string_view(plain)), encoded);
    EXPECT_EQ(decode_str(encoded), plain);
  }
}

TEST(Base64Test, RoundTripsEveryByte) {
  std::vector<uint8_t> all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<uint8_t>(i));
  for (size_t n = 0; n <= all.size(); n += 7) {
    std::vector<uint8_t> v(all.begin(), all.begin() + static_cast<long>(n));
    auto d = base64_decode(base64_encode(v));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, v);
  }
}

TEST(Base64Test, RefusesNonStrictInput) {
  for (std::string_view bad : std::initializer_list<std::string_view>{"Zg", "Zg=", "Z===", "====", "Zg==Zg==", "Zm9v Yg==", "Zm9vYg==\n",
                               "Zm-v", "Zm_v", "Zh==", "Zm9=", "=m9v", "Zm=v", std::string_view("Zm\0v", 4)}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace millrace::security::sasl
