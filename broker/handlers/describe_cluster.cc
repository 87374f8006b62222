// DescribeCluster (key 60), v0-1: the brokers and controller of the metadata
// image. On a controller listener (`--bootstrap-controller`, endpoint type 2,
// KIP-919) the controllers instead, with the active one as controller id.
// It needs no ACL; cluster_authorized_operations is 0 without DESCRIBE on the
// cluster (Kafka's AuthHelper.computeDescribeClusterResponse).
#include "broker/controller/controller_quorum.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::DescribeClusterResponse> handle(RequestContext& ctx, proto::DescribeClusterRequest& req) {
  auto& b = ctx.broker;
  proto::DescribeClusterResponse resp;
  const int8_t wanted = ctx.conn.controller_listener ? 2 : 1;
  if ((ctx.api_version >= 1 && req.endpoint_type != wanted) || (ctx.api_version == 0 && wanted == 2)) {
    resp.error_code = ctx.note(proto::ErrorCode::kUnsupportedEndpointType);
    resp.error_message = wanted == 2 ? "a controller listener serves controller endpoints (type 2)"
                                     : "a broker listener serves broker endpoints (type 1)";
    co_return resp;
  }
  if (wanted == 2) {
    resp.endpoint_type = 2;
    resp.cluster_id = b.cluster_id;
    resp.controller_id = b.quorum ? b.quorum->leader() : -1;
    if (req.include_cluster_authorized_operations)
      resp.cluster_authorized_operations = cluster_operations(ctx, *b.metadata.current());
    if (b.quorum)
      for (const auto& n : b.quorum->controller_nodes()) {
        if (n.endpoints.empty()) continue;
        auto& br = resp.brokers.emplace_back();
        br.broker_id = n.id;
        br.host = n.endpoints.front().host;
        br.port = n.endpoints.front().port;
      }
    co_return resp;
  }
  auto image = b.metadata.current();
  resp.endpoint_type = 1;
  resp.cluster_id = image->cluster_id();
  resp.controller_id = image->controller_id();
  if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = cluster_operations(ctx, *image);
  for (const auto& ib : image->brokers()) {
    if (ib.fenced) continue;
    auto ep = ib.endpoint(ctx.conn.listener);
    if (!ep) continue;
    auto& br = resp.brokers.emplace_back();
    br.broker_id = ib.id;
    br.host = ep->host;
    br.port = ep->port;
    br.rack = ib.rack;
  }
  co_return resp;
}

}  // namespace millrace::broker
