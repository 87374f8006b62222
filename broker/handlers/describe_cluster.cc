// DescribeCluster (key 60), v0-1: the brokers and controller of the metadata image.
#include "broker/handlers/handlers.h"
#include "broker/kafka/acl_operations.h"

namespace millrace::broker {

Task<proto::DescribeClusterResponse> handle(RequestContext& ctx, proto::DescribeClusterRequest& req) {
  auto& b = ctx.broker;
  proto::DescribeClusterResponse resp;
  if (ctx.api_version >= 1 && req.endpoint_type != 1) {
    resp.error_code = ctx.note(proto::ErrorCode::kUnsupportedEndpointType);
    resp.error_message = "only broker endpoints (type 1) exist";
    co_return resp;
  }
  auto image = b.metadata.current();
  resp.endpoint_type = 1;
  resp.cluster_id = image->cluster_id();
  resp.controller_id = image->controller_id();
  if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = kAllClusterOperations;
  for (const auto& ib : image->brokers()) {
    if (ib.fenced) continue;
    auto& br = resp.brokers.emplace_back();
    br.broker_id = ib.id;
    br.host = ib.host;
    br.port = ib.port;
    br.rack = ib.rack;
  }
  co_return resp;
}

}  // namespace millrace::broker
