#include "broker/kafka/request_decode.h"

#include <gtest/gtest.h>

#include <vector>

#include "protocol/wire/writer.h"

namespace millrace::broker {
namespace {

using proto::DecodeStatus;

std::vector<uint8_t> metadata_body(int16_t version, std::optional<std::vector<std::string>> topics) {
  proto::MetadataRequest req;
  req.topics.reset();  // null: all topics
  if (topics) {
    req.topics.emplace();
    for (auto& t : *topics) req.topics->push_back({.name = t});
  }
  std::vector<uint8_t> bytes;
  wire::Writer w(bytes);
  req.encode(w, version);
  return bytes;
}

// librdkafka >= 2.1 sends its all-topics Metadata v12 with three bytes after
// the body; Kafka 4.1 answers it (checked in tests/interop/compat.py).
TEST(RequestDecodeTest, TrailingBytesAfterTheBodyAreIgnored) {
  auto bytes = metadata_body(12, std::nullopt);
  bytes.insert(bytes.end(), {0x00, 0x00, 0x00});
  proto::RequestBody body;
  auto d = decode_request_as_kafka(3, 12, bytes, body);
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.trailing, 3u);
  ASSERT_TRUE(std::holds_alternative<proto::MetadataRequest>(body));
  EXPECT_FALSE(std::get<proto::MetadataRequest>(body).topics.has_value());
}

TEST(RequestDecodeTest, ExactBodyHasNoTrailingBytes) {
  auto bytes = metadata_body(4, std::vector<std::string>{"a", "bc"});
  proto::RequestBody body;
  auto d = decode_request_as_kafka(3, 4, bytes, body);
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.trailing, 0u);
  ASSERT_EQ(std::get<proto::MetadataRequest>(body).topics->size(), 2u);
}

// Strict inside the body: every truncation of a body is still malformed.
TEST(RequestDecodeTest, LengthRunningPastTheFrameIsMalformed) {
  auto bytes = metadata_body(12, std::vector<std::string>{"topic-name"});
  for (size_t n = 0; n < bytes.size(); ++n) {
    proto::RequestBody body;
    auto d = decode_request_as_kafka(3, 12, std::span<const uint8_t>(bytes.data(), n), body);
    EXPECT_EQ(d.status, DecodeStatus::kMalformed) << n;
  }
}

TEST(RequestDecodeTest, StringLengthBeyondTheFrameIsMalformed) {
  // Metadata v4: int32 array length 1, int16 string length 200, 2 bytes.
  std::vector<uint8_t> bytes = {0, 0, 0, 1, 0, 200, 'a', 'b', 1};
  proto::RequestBody body;
  EXPECT_EQ(decode_request_as_kafka(3, 4, bytes, body).status, DecodeStatus::kMalformed);
}

TEST(RequestDecodeTest, UnknownKeyAndVersion) {
  proto::RequestBody body;
  EXPECT_EQ(decode_request_as_kafka(999, 0, {}, body).status, DecodeStatus::kUnknownApiKey);
  EXPECT_EQ(decode_request_as_kafka(18, 99, {}, body).status, DecodeStatus::kUnsupportedVersion);
}

}  // namespace
}  // namespace millrace::broker
