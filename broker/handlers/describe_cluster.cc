// DescribeCluster (key 60), v0-1: this node, which is also the controller.
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
  resp.endpoint_type = 1;
  resp.cluster_id = b.cluster_id;
  resp.controller_id = b.node_id;
  if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = kAllClusterOperations;
  auto& br = resp.brokers.emplace_back();
  br.broker_id = b.node_id;
  br.host = b.advertised_host;
  br.port = b.advertised_port;
  if (auto rack = b.config.string("broker.rack"); !rack.empty()) br.rack = rack;
  co_return resp;
}

}  // namespace millrace::broker
