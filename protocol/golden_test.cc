// Golden fixtures: request frames that real clients sent (captured by the
// capture tool into protocol/testdata/golden/<client>/*.bin, one frame per
// file, without the 4-byte size prefix). Each must parse, decode by api key
// and version, and re-encode (header + body) to the identical bytes.
//
// Until the folder exists the test is skipped; once it exists it must hold at
// least one fixture.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "protocol/request_frame.h"

namespace millrace::proto {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<fs::path> fixtures(const fs::path& root) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && e.path().extension() == ".bin") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Returns an empty string when `frame` round-trips, else what went wrong.
std::string check_frame(const Bytes& frame) {
  auto parsed = parse_request_frame(frame);
  if (!parsed) return "header does not parse";
  int16_t key = parsed->header.request_api_key;
  int16_t version = parsed->header.request_api_version;
  RequestBody body;
  DecodeStatus st = decode_request_body(key, version, parsed->body, body);
  if (st != DecodeStatus::kOk) {
    return std::string(api_name(key)) + " v" + std::to_string(version) + ": " +
           std::string(decode_status_name(st));
  }
  wire::Writer w;
  encode_request_frame(parsed->header, body, w);
  if (w.buffer() != frame) {
    const Bytes& got = w.buffer();
    size_t i = 0;
    while (i < got.size() && i < frame.size() && got[i] == frame[i]) ++i;
    return std::string(api_name(key)) + " v" + std::to_string(version) + ": re-encoding differs at byte " +
           std::to_string(i) + " (" + std::to_string(got.size()) + " vs " + std::to_string(frame.size()) +
           " bytes)";
  }
  return {};
}

TEST(Golden, RealClientFramesReencodeByteForByte) {
  fs::path root = MILLRACE_GOLDEN_DIR;
  if (!fs::exists(root)) GTEST_SKIP() << root << " does not exist yet (no captured fixtures)";
  auto files = fixtures(root);
  ASSERT_FALSE(files.empty()) << root << " exists but holds no .bin fixtures";
  for (const auto& p : files) {
    EXPECT_EQ(check_frame(read_file(p)), "") << p;
  }
  RecordProperty("fixtures", static_cast<int>(files.size()));
  std::printf("checked %zu golden fixtures under %s\n", files.size(), root.c_str());
}

// The checker itself, on frames from this encoder, so that it is known to
// pass good frames and to catch a changed byte before real fixtures exist.
TEST(Golden, CheckerAcceptsEncoderOutputAndCatchesCorruption) {
  RequestHeader h;
  h.request_api_key = 3;
  h.request_api_version = 12;
  h.correlation_id = 9;
  h.client_id = "golden";
  MetadataRequest req;
  req.topics.emplace();
  req.topics->push_back({});
  req.topics->back().name = "orders";
  wire::Writer w;
  encode_request_frame(h, RequestBody(req), w);
  Bytes frame = w.buffer();
  EXPECT_EQ(check_frame(frame), "");

  Bytes bad = frame;
  bad.push_back(0);  // trailing byte after the body
  EXPECT_NE(check_frame(bad), "");
  Bytes non_canonical = frame;
  non_canonical[non_canonical.size() - 3] = 2;  // allow_auto_topic_creation = 2 re-encodes as 1
  EXPECT_NE(check_frame(non_canonical), "");
}

}  // namespace
}  // namespace millrace::proto
