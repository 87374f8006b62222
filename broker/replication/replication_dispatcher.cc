#include "broker/replication/replication_dispatcher.h"

#include <spdlog/spdlog.h>

#include "broker/controller/controller_request.h"
#include "protocol/wire/writer.h"
#include "raft/rpc/generated/raft_batch_request.h"
#include "raft/rpc/generated/raft_batch_response.h"

namespace millrace::broker {

namespace asio = boost::asio;

namespace {

bool is_raft_batch(std::span<const uint8_t> frame) {
  return frame.size() >= 2 &&
         static_cast<int16_t>((frame[0] << 8) | frame[1]) == raft::rpc::RaftBatchRequest::kApiKey;
}

}  // namespace

bool ReplicationDispatcher::may_pipeline(std::span<const uint8_t> frame) const {
  return !is_raft_batch(frame) && kafka_.may_pipeline(frame);
}

asio::awaitable<Dispatched> ReplicationDispatcher::dispatch(std::span<const uint8_t> frame, const ConnectionInfo& conn) {
  if (!is_raft_batch(frame)) {
    auto kafka = kafka_.dispatch(frame, conn);
    Dispatched d = co_await std::move(kafka);
    co_return d;
  }
  Dispatched d;
  auto req = parse_controller_request(frame);
  auto* batch = req.ok() ? std::get_if<raft::rpc::DecodedBatch>(&req.body) : nullptr;
  if (!batch || batch->poll || batch->to.value() != me_) {
    spdlog::warn("event=bad_raft_batch listener=inter_broker conn={} peer={} error=\"{}\"", conn.id, conn.peer,
                 !req.ok() ? req.error : batch ? "addressed to node " + std::to_string(batch->to.value()) : "not a batch");
    d.response = Response::close();
    co_return d;
  }
  replication_.deliver(static_cast<int32_t>(batch->from.value()), std::move(batch->messages));
  raft::rpc::RaftBatchResponse resp;
  resp.node_id = me_;
  wire::Writer w(d.response.bytes);
  w.int32(req.correlation_id);
  w.uvarint(0);  // response header v1: no tagged fields
  resp.encode(w, req.api_version);
  co_return d;
}

}  // namespace millrace::broker
