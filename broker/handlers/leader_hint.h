// KIP-951: a Produce (v10+) or Fetch (v16+) answered NOT_LEADER_OR_FOLLOWER
// (or, for Fetch, FENCED_LEADER_EPOCH) carries the partition's current leader
// and its endpoint from this broker's metadata image, so the client moves to
// it without a Metadata round trip. A replica's own view (`known`: its Raft
// group's leader and term) wins over an image that still names an older
// leader, this broker included (its report may not have landed yet: without
// this a client would ask this broker again and again). Nothing when this
// broker knows no other serving leader (the client refreshes its metadata as
// before).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/metadata/metadata_image.h"

namespace millrace::broker {

struct LeaderHint {
  int32_t id = -1;
  int32_t epoch = -1;
  std::string host;
  int32_t port = -1;
};

struct KnownLeader {
  int32_t id = -1;
  int32_t epoch = -1;
};

std::optional<LeaderHint> leader_hint(const cluster::MetadataImage* image, std::string_view topic, int32_t partition,
                                      int32_t self, KnownLeader known = {}, std::string_view listener = "PLAINTEXT");

// Adds the hint's endpoint to a response's NodeEndpoints once per node.
template <typename Endpoint>
void add_endpoint(std::vector<Endpoint>& endpoints, const LeaderHint& h) {
  for (const auto& e : endpoints)
    if (e.node_id == h.id) return;
  auto& e = endpoints.emplace_back();
  e.node_id = h.id;
  e.host = h.host;
  e.port = static_cast<decltype(e.port)>(h.port);
}

}  // namespace millrace::broker
