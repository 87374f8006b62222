// Encodings written out by hand from Kafka's protocol guide, so that a
// mistake shared by the generator and the round-trip test cannot pass.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "protocol/generated/api_keys.h"
#include "protocol/generated/error_codes.h"
#include "protocol/generated/messages.h"

namespace millrace::proto {
namespace {

using Bytes = std::vector<uint8_t>;

template <typename T>
Bytes encode(const T& m, int16_t version) {
  wire::Writer w;
  m.encode(w, version);
  return w.buffer();
}

template <typename T>
T decode_all(const Bytes& b, int16_t version) {
  T m;
  wire::Reader r(b);
  EXPECT_TRUE(m.decode(r, version));
  EXPECT_TRUE(r.at_end());
  return m;
}

TEST(KnownBytes, RequestHeaderV2KeepsInt16ClientIdThenTaggedFields) {
  RequestHeader h;
  h.request_api_key = 18;
  h.request_api_version = 3;
  h.correlation_id = 1;
  h.client_id = "rdkafka";
  const Bytes want = {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
                      0x00, 0x07, 'r', 'd', 'k', 'a', 'f', 'k', 'a', 0x00};
  EXPECT_EQ(encode(h, 2), want);
  EXPECT_EQ(decode_all<RequestHeader>(want, 2), h);
}

TEST(KnownBytes, RequestHeaderV1NullClientId) {
  RequestHeader h;
  h.request_api_key = 3;
  h.request_api_version = 1;
  h.correlation_id = 0x01020304;
  h.client_id.reset();
  const Bytes want = {0x00, 0x03, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0xff, 0xff};
  EXPECT_EQ(encode(h, 1), want);
  EXPECT_EQ(decode_all<RequestHeader>(want, 1), h);
}

TEST(KnownBytes, ApiVersionsRequestV3UsesCompactStrings) {
  ApiVersionsRequest req;
  req.client_software_name = "librdkafka";
  req.client_software_version = "2.0.2";
  const Bytes want = {0x0b, 'l', 'i', 'b', 'r', 'd', 'k', 'a', 'f', 'k', 'a',
                      0x06, '2', '.', '0', '.', '2', 0x00};
  EXPECT_EQ(encode(req, 3), want);
  EXPECT_EQ(decode_all<ApiVersionsRequest>(want, 3), req);
  // v0-v2 have no fields at all.
  EXPECT_TRUE(encode(req, 2).empty());
}

TEST(KnownBytes, ApiVersionsResponseV3WritesNonDefaultTaggedFieldOnly) {
  ApiVersionsResponse resp;
  resp.api_keys.push_back({.api_key = 0, .min_version = 0, .max_version = 9});
  resp.finalized_features_epoch = 5;
  const Bytes want = {0x00, 0x00,                                      // error_code
                      0x02,                                            // 1 api key
                      0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00,        // key 0: 0..9, no tags
                      0x00, 0x00, 0x00, 0x00,                          // throttle_time_ms
                      0x01,                                            // one tagged field
                      0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x05};          // tag 1, 8 bytes: epoch 5
  EXPECT_EQ(encode(resp, 3), want);
  EXPECT_EQ(decode_all<ApiVersionsResponse>(want, 3), resp);
}

TEST(KnownBytes, ApiVersionsResponseV0UsesInt32ArrayAndNoThrottle) {
  ApiVersionsResponse resp;
  resp.error_code = 35;
  resp.api_keys.push_back({.api_key = 18, .min_version = 0, .max_version = 3});
  resp.throttle_time_ms = 100;  // not in v0: silently not written
  const Bytes want = {0x00, 0x23, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x00, 0x00, 0x00, 0x03};
  EXPECT_EQ(encode(resp, 0), want);
}

TEST(KnownBytes, UnknownTagsArePreservedInTagOrder) {
  // Tags 7 (unknown) and 1 (known) sent out of order; re-encoded in tag order.
  const Bytes in = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                    0x02,
                    0x07, 0x02, 0xca, 0xfe,
                    0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x09};
  auto resp = decode_all<ApiVersionsResponse>(in, 3);
  EXPECT_EQ(resp.finalized_features_epoch, 9);
  ASSERT_EQ(resp.unknown_tags.size(), 1u);
  EXPECT_EQ(resp.unknown_tags[0].first, 7u);
  EXPECT_EQ(resp.unknown_tags[0].second, (Bytes{0xca, 0xfe}));
  const Bytes want = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                      0x02,
                      0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x09,
                      0x07, 0x02, 0xca, 0xfe};
  EXPECT_EQ(encode(resp, 3), want);
}

TEST(KnownBytes, KnownTagWithTrailingGarbageFailsDecode) {
  // Tag 1 claims 9 bytes but the int64 epoch takes 8.
  const Bytes in = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                    0x01, 0x01, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x09, 0xff};
  ApiVersionsResponse resp;
  wire::Reader r(in);
  EXPECT_FALSE(resp.decode(r, 3));
}

TEST(KnownBytes, MetadataRequestTopicsV0AndNullTopicsV1) {
  MetadataRequest req;
  req.topics = std::vector<MetadataRequest::MetadataRequestTopic>{};
  req.topics->push_back({});
  req.topics->back().name = "foo";
  const Bytes v0 = {0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 'f', 'o', 'o'};
  EXPECT_EQ(encode(req, 0), v0);
  EXPECT_EQ(decode_all<MetadataRequest>(v0, 0).topics->at(0).name, "foo");

  req.topics.reset();  // all topics
  EXPECT_EQ(encode(req, 1), (Bytes{0xff, 0xff, 0xff, 0xff}));
  EXPECT_FALSE(decode_all<MetadataRequest>(Bytes{0xff, 0xff, 0xff, 0xff}, 1).topics.has_value());
  // v0 cannot say null: a null array there is malformed.
  MetadataRequest m;
  Bytes null_v0 = {0xff, 0xff, 0xff, 0xff};
  wire::Reader r(null_v0);
  EXPECT_FALSE(m.decode(r, 0));
}

TEST(KnownBytes, NullableStructIsPrefixedByPresenceByte) {
  DescribeTopicPartitionsRequest req;
  req.topics.push_back({});
  req.topics.back().name = "a";
  EXPECT_EQ(req.response_partition_limit, 2000);  // JSON default
  EXPECT_FALSE(req.cursor.has_value());             // JSON default "null"
  const Bytes want = {0x02, 0x02, 'a', 0x00, 0x00, 0x00, 0x07, 0xd0, 0xff, 0x00};
  EXPECT_EQ(encode(req, 0), want);

  req.cursor.emplace();
  req.cursor->topic_name = "b";
  req.cursor->partition_index = 3;
  const Bytes with_cursor = {0x02, 0x02, 'a', 0x00, 0x00, 0x00, 0x07, 0xd0,
                             0x01, 0x02, 'b', 0x00, 0x00, 0x00, 0x03, 0x00, 0x00};
  EXPECT_EQ(encode(req, 0), with_cursor);
  EXPECT_EQ(decode_all<DescribeTopicPartitionsRequest>(with_cursor, 0), req);
}

TEST(KnownBytes, ProduceRequestV3RecordsAndNullTransactionalId) {
  ProduceRequest req;
  req.acks = -1;
  req.timeout_ms = 1000;
  req.topic_data.push_back({});
  req.topic_data[0].name = "t";
  req.topic_data[0].partition_data.push_back({});
  req.topic_data[0].partition_data[0].index = 2;
  req.topic_data[0].partition_data[0].records.is_null = false;
  req.topic_data[0].partition_data[0].records.bytes = {0xab, 0xcd};
  const Bytes want = {0xff, 0xff,              // transactional_id null
                      0xff, 0xff,              // acks -1
                      0x00, 0x00, 0x03, 0xe8,  // timeout 1000
                      0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
                      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
                      0x00, 0x00, 0x00, 0x02, 0xab, 0xcd};
  EXPECT_EQ(encode(req, 3), want);
  EXPECT_EQ(decode_all<ProduceRequest>(want, 3), req);
}

TEST(KnownBytes, FileBackedRecordsBecomeASplice) {
  FetchResponse resp;
  resp.responses.push_back({});
  resp.responses[0].topic = "t";
  resp.responses[0].partitions.push_back({});
  auto& rec = resp.responses[0].partitions[0].records;
  rec.is_null = false;
  rec.file = FileRegion{.fd = 7, .position = 4096, .length = 300};
  wire::Writer w;
  resp.encode(w, 4);
  ASSERT_EQ(w.splices().size(), 1u);
  EXPECT_EQ(w.splices()[0].region, *rec.file);
  EXPECT_EQ(w.splices()[0].at_offset, w.size());  // records are the last field in v4
  EXPECT_EQ(w.total_size(), w.size() + 300);
  // The 4 bytes before the splice are its length.
  const auto& b = w.buffer();
  EXPECT_EQ((Bytes{b.end() - 4, b.end()}), (Bytes{0x00, 0x00, 0x01, 0x2c}));
}

TEST(KnownBytes, ApiKeysAndHeaderVersions) {
  EXPECT_EQ(static_cast<int16_t>(ApiKey::kProduce), 0);
  EXPECT_EQ(static_cast<int16_t>(ApiKey::kApiVersions), 18);
  EXPECT_EQ(static_cast<int16_t>(ApiKey::kDescribeTopicPartitions), 75);
  EXPECT_EQ(api_name(1), "Fetch");
  EXPECT_EQ(api_name(9999), "Unknown");
  EXPECT_EQ(request_header_version(18, 3), 2);
  EXPECT_EQ(request_header_version(18, 2), 1);
  EXPECT_EQ(request_header_version(18, 99), 2);  // newer than known: still flexible
  EXPECT_EQ(request_header_version(9999, 0), 1);
  EXPECT_EQ(response_header_version(18, 3), 0);  // ApiVersions: always v0
  EXPECT_EQ(response_header_version(3, 9), 1);
  EXPECT_EQ(response_header_version(3, 8), 0);
  EXPECT_TRUE(api_version_known(1, 12));
  EXPECT_FALSE(api_version_known(1, 18));
  EXPECT_FALSE(api_version_known(9999, 0));
}

TEST(KnownBytes, ErrorCodeTable) {
  EXPECT_EQ(code(ErrorCode::kNone), 0);
  EXPECT_EQ(code(ErrorCode::kUnknownServerError), -1);
  EXPECT_EQ(code(ErrorCode::kUnknownTopicOrPartition), 3);
  EXPECT_EQ(code(ErrorCode::kUnsupportedVersion), 35);
  EXPECT_EQ(code(ErrorCode::kTransactionAbortable), 120);
  EXPECT_EQ(error_name(3), "UNKNOWN_TOPIC_OR_PARTITION");
  EXPECT_EQ(error_name(ErrorCode::kNotLeaderOrFollower), "NOT_LEADER_OR_FOLLOWER");
  EXPECT_EQ(error_name(31000), "UNKNOWN");
  EXPECT_TRUE(error_retriable(ErrorCode::kNotLeaderOrFollower));
  EXPECT_FALSE(error_retriable(ErrorCode::kTopicAlreadyExists));
}

}  // namespace
}  // namespace millrace::proto
