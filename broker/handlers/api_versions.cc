// ApiVersions (key 18), v0-3: the ranges of broker/kafka/api_table.cc. On a
// controller listener, only the Kafka APIs a controller serves there
// (broker/controller/controller_dispatcher.h), as a KRaft controller answers.
// v3+ also carries the features (cluster/metadata/features.h): the levels this
// broker supports, and those finalized in the metadata log, with the image's
// version as their epoch (kafka-features.sh describe reads them here).
// (KIP-511's reply to an unknown version is in the dispatcher.)
#include "broker/handlers/handlers.h"
#include "broker/kafka/api_table.h"
#include "cluster/metadata/features.h"

namespace millrace::broker {

bool dynamic_quorum(const Config& config) { return !config.string("controller.quorum.bootstrap.servers").empty(); }

Task<proto::ApiVersionsResponse> handle(RequestContext& ctx, proto::ApiVersionsRequest&) {
  proto::ApiVersionsResponse resp;
  for (const auto& a : api_table()) {
    if (ctx.conn.controller_listener && !controller_listener_api(a.key)) continue;
    proto::ApiVersionsResponse::ApiVersion v;
    v.api_key = a.key;
    v.min_version = a.advertise_min;
    v.max_version = a.advertise_max;
    resp.api_keys.push_back(v);
  }
  const bool dynamic = dynamic_quorum(ctx.broker.config);
  for (const auto& f : cluster::supported_features(dynamic)) {
    auto& s = resp.supported_features.emplace_back();
    s.name = f.name;
    s.min_version = f.min;
    s.max_version = f.max;
  }
  const auto image = ctx.broker.metadata.current();
  resp.finalized_features_epoch = static_cast<int64_t>(image->version());
  for (const auto& [name, level] : cluster::finalized_features(image->features(), dynamic)) {
    auto& f = resp.finalized_features.emplace_back();
    f.name = name;
    f.min_version_level = level;
    f.max_version_level = level;
  }
  co_return resp;
}

}  // namespace millrace::broker
