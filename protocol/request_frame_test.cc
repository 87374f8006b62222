// Request/response framing: header version by api key, body decode by key,
// and the outcomes for unknown keys, unknown versions and malformed bytes.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "protocol/generated/testing/samples.h"
#include "protocol/request_frame.h"

namespace millrace::proto {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes frame_of(const RequestHeader& h, const RequestBody& body) {
  wire::Writer w;
  encode_request_frame(h, body, w);
  return w.buffer();
}

RequestHeader header(int16_t key, int16_t version) {
  RequestHeader h;
  h.request_api_key = key;
  h.request_api_version = version;
  h.correlation_id = 42;
  h.client_id = "test-client";
  return h;
}

TEST(RequestFrame, EveryApiAndVersionParsesDecodesAndReencodes) {
  int checked = 0, apis = 0, expected = 0;
  for (int16_t key = 0; key < 100; ++key) {
    if (api_lowest_version(key) >= 0) {
      ++apis;
      expected += api_highest_version(key) - api_lowest_version(key) + 1;
    }
    visit_api(key, [&]<typename Req, typename Resp>(std::type_identity<Req>, std::type_identity<Resp>) {
      for (int16_t v = Req::kLowestVersion; v <= Req::kHighestVersion; ++v) {
        SCOPED_TRACE(::testing::Message() << api_name(key) << " v" << v);
        Req req;
        testing::fill_sample(req, v, 0);
        Bytes frame = frame_of(header(key, v), RequestBody(req));

        auto parsed = parse_request_frame(frame);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(parsed->header.correlation_id, 42);
        EXPECT_EQ(parsed->header.client_id, "test-client");
        EXPECT_EQ(parsed->header_version, request_header_version(key, v));
        RequestBody body;
        ASSERT_EQ(decode_request_body(key, v, parsed->body, body), DecodeStatus::kOk);
        ASSERT_TRUE(std::holds_alternative<Req>(body));
        EXPECT_TRUE(std::get<Req>(body) == req);
        EXPECT_EQ(api_key_of(body), key);
        EXPECT_EQ(frame_of(parsed->header, body), frame);

        Resp resp;
        testing::fill_sample(resp, v, 0);
        wire::Writer w;
        encode_response_frame(7, ResponseBody(resp), v, w);
        auto rparsed = parse_response_frame(w.buffer(), key, v);
        ASSERT_TRUE(rparsed.has_value());
        EXPECT_EQ(rparsed->header.correlation_id, 7);
        ResponseBody rbody;
        ASSERT_EQ(decode_response_body(key, v, rparsed->body, rbody), DecodeStatus::kOk);
        EXPECT_TRUE(std::get<Resp>(rbody) == resp);
        ++checked;
      }
    });
  }
  EXPECT_EQ(apis, 47);  // the APIS list in tools/protocol-gen/generate.py
  EXPECT_EQ(checked, expected);
}

TEST(RequestFrame, UnknownKeyStillParsesHeaderAsV1) {
  Bytes frame = {0x03, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01, 'x', 0xaa};
  auto parsed = parse_request_frame(frame);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->header.request_api_key, 999);
  EXPECT_EQ(parsed->header_version, 1);
  EXPECT_EQ(parsed->header.client_id, "x");
  EXPECT_EQ(parsed->body.size(), 1u);
  RequestBody body;
  EXPECT_EQ(decode_request_body(999, 0, parsed->body, body), DecodeStatus::kUnknownApiKey);
}

TEST(RequestFrame, NewerApiVersionsRequestIsUnsupportedNotMalformed) {
  // KIP-511: a client may send ApiVersions v5; the header (v2) still parses.
  RequestHeader h = header(18, 5);
  wire::Writer w;
  h.encode(w, 2);
  w.uint8(0);  // an empty flexible body
  auto parsed = parse_request_frame(w.buffer());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->header_version, 2);
  EXPECT_EQ(parsed->header.correlation_id, 42);
  RequestBody body;
  EXPECT_EQ(decode_request_body(18, 5, parsed->body, body), DecodeStatus::kUnsupportedVersion);
}

TEST(RequestFrame, TruncatedHeaderIsRejected) {
  Bytes frame = frame_of(header(3, 9), RequestBody(MetadataRequest{}));
  for (size_t n = 0; n < 18; ++n) {  // header v2 with "test-client" is 8 + 2 + 11 + 1 bytes
    EXPECT_FALSE(parse_request_frame(std::span<const uint8_t>(frame.data(), n)).has_value()) << n;
  }
}

TEST(RequestFrame, TrailingBytesAfterBodyAreMalformed) {
  wire::Writer w;
  MetadataRequest{}.encode(w, 4);
  w.uint8(0x99);
  RequestBody body;
  EXPECT_EQ(decode_request_body(3, 4, w.buffer(), body), DecodeStatus::kMalformed);
}

TEST(RequestFrame, SizePrefixCountsSplicedRegions) {
  FetchResponse resp;
  resp.responses.push_back({});
  resp.responses[0].partitions.push_back({});
  resp.responses[0].partitions[0].records.is_null = false;
  resp.responses[0].partitions[0].records.file = FileRegion{.fd = 3, .position = 0, .length = 1000};
  wire::Writer w;
  size_t at = begin_size_prefix(w);
  encode_response_frame(1, ResponseBody(resp), 4, w);
  finish_size_prefix(w, at);
  wire::Reader r(w.buffer());
  EXPECT_EQ(static_cast<size_t>(r.int32()), w.total_size() - 4);
}

}  // namespace
}  // namespace millrace::proto
