// Kafka's text form of a topic id (Uuid.toString: base64url without padding of
// the 16 bytes, most significant long first). Expected strings were computed
// with Python's base64.urlsafe_b64encode, independently of this code.
#include <gtest/gtest.h>

#include "client/admin.h"

namespace millrace::client {
namespace {

proto::Uuid from_hex(const std::string& hex) {
  proto::Uuid u;
  for (size_t i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return u;
}

TEST(TopicIdString, ZeroIdMeansNoId) { EXPECT_EQ(topic_id_string(proto::Uuid{}), ""); }

TEST(TopicIdString, LowBitOnly) {
  EXPECT_EQ(topic_id_string(from_hex("00000000000000000000000000000001")), "AAAAAAAAAAAAAAAAAAAAAQ");
}

TEST(TopicIdString, UsesUrlSafeAlphabetWithoutPadding) {
  auto s = topic_id_string(from_hex("deadbeefcafebabe0123456789abcdef"));
  EXPECT_EQ(s, "3q2-78r-ur4BI0VniavN7w");
  EXPECT_EQ(s.size(), 22u);
}

TEST(TopicIdString, AllOnes) {
  EXPECT_EQ(topic_id_string(from_hex("ffffffffffffffffffffffffffffffff")), "_____________________w");
}

}  // namespace
}  // namespace millrace::client
