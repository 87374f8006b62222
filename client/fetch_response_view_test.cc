// parse_fetch_response() against the generated encoder: every field the view
// keeps must match what proto::FetchResponse wrote, at every version the client
// asks for, including tagged fields (v12) and aborted transactions; any cut of the
// body must be refused, never read past.
#include "client/fetch_response_view.h"

#include <gtest/gtest.h>

#include "protocol/generated/fetch_response.h"
#include "protocol/wire/writer.h"

namespace millrace::client {
namespace {

using proto::FetchResponse;

FetchResponse sample() {
  FetchResponse r;
  r.throttle_time_ms = 7;
  r.error_code = 0;
  r.session_id = 42;
  for (int t = 0; t < 2; ++t) {
    FetchResponse::FetchableTopicResponse topic;
    topic.topic = t == 0 ? "orders" : "a-much-longer-topic-name-than-sso";
    for (int p = 0; p < 3; ++p) {
      FetchResponse::FetchableTopicResponse::PartitionData pd;
      pd.partition_index = p * 10 + t;
      pd.error_code = p == 2 ? 1 : 0;   // OFFSET_OUT_OF_RANGE on one partition
      pd.high_watermark = 1000 + p;
      pd.last_stable_offset = 999;
      pd.log_start_offset = 5;
      pd.diverging_epoch.epoch = 3;   // non-default: written as a tagged field in v12
      pd.current_leader.leader_id = 1;
      pd.aborted_transactions->push_back({77, 12, {}});
      if (p == 1) {
        pd.aborted_transactions.reset();   // null array
      }
      if (p == 0) {
        pd.records.is_null = false;
        for (int i = 0; i < 300; ++i) pd.records.bytes.push_back(static_cast<uint8_t>(i * 7 + t));
      }   // p 1, 2: null records
      topic.partitions.push_back(std::move(pd));
    }
    r.responses.push_back(std::move(topic));
  }
  return r;
}

std::vector<uint8_t> encode(const FetchResponse& r, int16_t v) {
  wire::Writer w;
  r.encode(w, v);
  return std::move(w.buffer());
}

class FetchResponseViewVersions : public ::testing::TestWithParam<int16_t> {};

TEST_P(FetchResponseViewVersions, MatchesTheGeneratedEncoder) {
  int16_t v = GetParam();
  auto want = sample();
  auto bytes = encode(want, v);
  auto got = parse_fetch_response(bytes, v);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->throttle_time_ms, 7);
  ASSERT_EQ(got->topics.size(), want.responses.size());
  for (size_t t = 0; t < want.responses.size(); ++t) {
    EXPECT_EQ(got->topics[t].topic, want.responses[t].topic);
    ASSERT_EQ(got->topics[t].partitions.size(), want.responses[t].partitions.size());
    for (size_t p = 0; p < want.responses[t].partitions.size(); ++p) {
      const auto& w = want.responses[t].partitions[p];
      const auto& g = got->topics[t].partitions[p];
      EXPECT_EQ(g.partition, w.partition_index);
      EXPECT_EQ(g.error_code, w.error_code);
      EXPECT_EQ(g.high_watermark, w.high_watermark);
      EXPECT_EQ(std::vector<uint8_t>(g.records.begin(), g.records.end()), w.records.bytes);
      // A view, not a copy: the records point into the body.
      if (!g.records.empty()) {
        EXPECT_GE(g.records.data(), bytes.data());
        EXPECT_LE(g.records.data() + g.records.size(), bytes.data() + bytes.size());
      }
    }
  }
}

TEST_P(FetchResponseViewVersions, TopLevelErrorIsKept) {
  int16_t v = GetParam();
  FetchResponse r;
  r.error_code = 72;   // e.g. FETCH_SESSION_ID_NOT_FOUND (v7+ only)
  auto bytes = encode(r, v);
  auto got = parse_fetch_response(bytes, v);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->error_code, v >= 7 ? 72 : 0);
  EXPECT_TRUE(got->topics.empty());
}

TEST_P(FetchResponseViewVersions, EveryCutIsRefused) {
  int16_t v = GetParam();
  auto bytes = encode(sample(), v);
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(parse_fetch_response(std::span(bytes.data(), n), v).has_value()) << "cut at " << n;
}

INSTANTIATE_TEST_SUITE_P(V4ToV12, FetchResponseViewVersions, ::testing::Range<int16_t>(4, 13));

TEST(FetchResponseView, HostileCountsAreRefused) {
  // throttle, then a topic count far larger than the bytes that follow.
  std::vector<uint8_t> body = {0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, 'x'};
  EXPECT_FALSE(parse_fetch_response(body, 4).has_value());
  // v12: records length (uvarint) larger than what is left.
  auto bytes = encode(sample(), 12);
  bytes.resize(bytes.size() - 1);
  EXPECT_FALSE(parse_fetch_response(bytes, 12).has_value());
}

}  // namespace
}  // namespace millrace::client
