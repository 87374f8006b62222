// Which Kafka APIs and versions the broker advertises (ApiVersions) and
// serves. One row per API, built at compile time from the versions each
// handler declares with its type (broker/handlers/handlers.h, ServedApis); the
// handler for each lives in broker/handlers/ (one file per API) and is found by
// overload on its request type.
//
// `serve_min` > `advertise_min` marks versions that are advertised for
// clients' feature gates but answered with UNSUPPORTED_VERSION (Produce v0-2:
// librdkafka enables compression codecs only if the range includes v0).
#pragma once

#include <cstdint>
#include <span>

namespace millrace::broker {

struct ApiRow {
  int16_t key;
  int16_t advertise_min;
  int16_t advertise_max;
  int16_t serve_min;
};

std::span<const ApiRow> api_table();

// The Kafka APIs a controller listener serves (as a KRaft controller does for
// `--bootstrap-controller` clients): ApiVersions (18), DescribeQuorum (55),
// DescribeCluster (60), AddRaftVoter (80), RemoveRaftVoter (81).
inline bool controller_listener_api(int16_t key) {
  return key == 18 || key == 55 || key == 60 || key == 80 || key == 81;
}
const ApiRow* find_api(int16_t key);

}  // namespace millrace::broker
