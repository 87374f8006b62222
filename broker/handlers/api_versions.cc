// ApiVersions (key 18), v0-3: the ranges of broker/kafka/api_table.cc. On a
// controller listener, only the Kafka APIs a controller serves there
// (broker/controller/controller_dispatcher.h), as a KRaft controller answers.
// (KIP-511's reply to an unknown version is in the dispatcher.)
#include "broker/handlers/handlers.h"
#include "broker/kafka/api_table.h"

namespace millrace::broker {

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
  co_return resp;
}

}  // namespace millrace::broker
