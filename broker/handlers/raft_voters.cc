// AddRaftVoter (key 80) and RemoveRaftVoter (key 81), v0: change the voters
// of a dynamic controller quorum (KIP-853), so `kafka-metadata-quorum.sh
// add-controller` / `remove-controller` work. Served by the active controller
// (another node forwards them there, kafka/dispatcher.cc), which answers once
// the new configuration is committed (broker/controller/controller_quorum.h).
#include "broker/controller/controller_quorum.h"
#include "broker/handlers/await_callback.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

namespace {

// Refused before the quorum is asked: a request for another cluster (as
// Kafka does; a null id is not checked), or a node without a quorum. True
// when `resp` now carries the refusal.
template <typename Resp>
bool refused(RequestContext& ctx, const std::optional<std::string>& cluster_id, Resp& resp) {
  if (cluster_id && !cluster_id->empty() && *cluster_id != ctx.broker.cluster_id) {
    resp.error_code = ctx.note(proto::ErrorCode::kInconsistentClusterId);
    resp.error_message = "cluster id " + *cluster_id + " is not this cluster's (" + ctx.broker.cluster_id + ")";
    return true;
  }
  if (!ctx.broker.quorum) {
    resp.error_code = ctx.note(proto::ErrorCode::kNotController);
    return true;
  }
  return false;
}

template <typename Resp>
void answer(RequestContext& ctx, const ControllerQuorum::VoterChangeResult& r, Resp& resp) {
  resp.error_code = r.error == 0 ? int16_t{0} : ctx.note(r.error);
  if (!r.message.empty()) resp.error_message = r.message;
}

}  // namespace

Task<proto::AddRaftVoterResponse> handle(RequestContext& ctx, proto::AddRaftVoterRequest& req) {
  proto::AddRaftVoterResponse resp;
  if (refused(ctx, req.cluster_id, resp)) co_return resp;
  std::vector<cluster::BrokerEndpoint> endpoints;
  for (const auto& l : req.listeners) {
    if (l.host.empty() || l.port == 0) {
      resp.error_code = ctx.note(proto::ErrorCode::kInvalidRequest);
      resp.error_message = "listener " + l.name + " has no host or port";
      co_return resp;
    }
    endpoints.push_back({l.name, l.host, l.port, 0});
  }
  auto* quorum = ctx.broker.quorum;
  auto op = await_callback<ControllerQuorum::VoterChangeResult>(
      ctx.executor, [quorum, &req, &endpoints](std::function<void(ControllerQuorum::VoterChangeResult)> cb) {
        quorum->add_voter(req.voter_id, req.voter_directory_id.bytes, endpoints, req.timeout_ms, std::move(cb));
      });
  ControllerQuorum::VoterChangeResult r = co_await std::move(op);
  answer(ctx, r, resp);
  co_return resp;
}

Task<proto::RemoveRaftVoterResponse> handle(RequestContext& ctx, proto::RemoveRaftVoterRequest& req) {
  proto::RemoveRaftVoterResponse resp;
  if (refused(ctx, req.cluster_id, resp)) co_return resp;
  auto* quorum = ctx.broker.quorum;
  auto op = await_callback<ControllerQuorum::VoterChangeResult>(
      ctx.executor, [quorum, &req](std::function<void(ControllerQuorum::VoterChangeResult)> cb) {
        quorum->remove_voter(req.voter_id, req.voter_directory_id.bytes, std::move(cb));
      });
  ControllerQuorum::VoterChangeResult r = co_await std::move(op);
  answer(ctx, r, resp);
  co_return resp;
}

}  // namespace millrace::broker
