// A zero-copy reading of a Fetch response body (v4-v12, the versions the client
// asks for; see api_traits.h). The generated proto::FetchResponse copies every
// partition's records into a vector; this view only records where they are, so a
// multi-megabyte response is read once by the kernel and never again until the
// records are decoded.
//
//   FetchResponse v4-v12 (v12 flexible: compact lengths, tagged fields after
//   every struct; non-flexible: int16/int32 lengths)
//     throttle_time_ms  int32
//     error_code        int16      v7+
//     session_id        int32      v7+
//     responses[]
//       topic           string
//       partitions[]
//         partition_index      int32
//         error_code           int16
//         high_watermark       int64
//         last_stable_offset   int64
//         log_start_offset     int64   v5+
//         aborted_transactions[] (nullable) producer_id int64, first_offset int64
//         preferred_read_replica int32  v11+
//         records              nullable bytes (record batches, the last one may be cut)
//       [tagged fields]  (v12: diverging_epoch, current_leader, snapshot_id: skipped)
//     [tagged fields]
//
// Views point into the buffer passed to parse_fetch_response(); they are valid
// while it is. Never throws; a malformed body gives nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace millrace::client {

struct FetchPartitionView {
  int32_t partition = 0;
  int16_t error_code = 0;
  int64_t high_watermark = -1;
  std::span<const uint8_t> records;   // empty for null records
};

struct FetchTopicView {
  std::string_view topic;
  std::vector<FetchPartitionView> partitions;
};

struct FetchResponseView {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::vector<FetchTopicView> topics;
};

// REQUIRES: 4 <= version <= 12.
std::optional<FetchResponseView> parse_fetch_response(std::span<const uint8_t> body, int16_t version);

}  // namespace millrace::client
