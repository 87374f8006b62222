// ApiVersions (key 18), v0-3: the ranges of broker/kafka/api_table.cc.
// (KIP-511's reply to an unknown version is in the dispatcher.)
#include "broker/handlers/handlers.h"
#include "broker/kafka/api_table.h"

namespace millrace::broker {

Task<proto::ApiVersionsResponse> handle(RequestContext&, proto::ApiVersionsRequest&) {
  proto::ApiVersionsResponse resp;
  for (const auto& a : api_table()) {
    proto::ApiVersionsResponse::ApiVersion v;
    v.api_key = a.key;
    v.min_version = a.advertise_min;
    v.max_version = a.advertise_max;
    resp.api_keys.push_back(v);
  }
  co_return resp;
}

}  // namespace millrace::broker
