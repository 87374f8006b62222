#include "broker/controller/controller_dispatcher.h"

#include <spdlog/spdlog.h>

#include <boost/asio/this_coro.hpp>

#include "broker/handlers/await_callback.h"
#include "cluster/producers/producer_ids.h"
#include "protocol/generated/allocate_producer_ids_request.h"
#include "protocol/generated/allocate_producer_ids_response.h"
#include "protocol/generated/broker_heartbeat_request.h"
#include "protocol/generated/broker_heartbeat_response.h"
#include "protocol/generated/broker_registration_request.h"
#include "protocol/generated/broker_registration_response.h"
#include "protocol/generated/error_codes.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"
#include "raft/rpc/codec.h"
#include "raft/rpc/generated/controller_forward_request.h"
#include "raft/rpc/generated/controller_forward_response.h"
#include "raft/rpc/generated/raft_batch_response.h"

namespace millrace::broker {

namespace asio = boost::asio;

namespace {

template <typename Msg>
Response answer(int32_t correlation_id, const Msg& body, int16_t version) {
  Response r;
  wire::Writer w(r.bytes);
  w.int32(correlation_id);
  w.uvarint(0);  // response header v1: no tagged fields
  body.encode(w, version);
  return r;
}

Dispatched now(Response r) {
  Dispatched d;
  d.response = std::move(r);
  return d;
}

}  // namespace

asio::awaitable<Dispatched> ControllerDispatcher::dispatch(std::span<const uint8_t> frame, const ConnectionInfo& conn) {
  wire::Reader r(frame);
  const int16_t key = r.int16(), version = r.int16();
  const int32_t cid = r.int32();
  const int16_t client_len = r.int16();
  if (client_len > 0) r.skip(static_cast<size_t>(client_len));
  uint32_t tags = r.uvarint();
  for (uint32_t i = 0; i < tags && r.ok(); ++i) {
    r.uvarint();
    r.skip(r.uvarint());
  }
  if (!r.ok()) {
    spdlog::warn("event=bad_controller_request conn={} peer={} bytes={}", conn.id, conn.peer, frame.size());
    co_return now(Response::close());
  }
  auto body = frame.subspan(frame.size() - r.remaining());
  auto ex = co_await asio::this_coro::executor;

  if (key == raft::rpc::RaftBatchRequest::kApiKey && version == raft::rpc::kBatchVersion) {
    auto batch = raft::rpc::decode_batch(body);
    raft::rpc::RaftBatchResponse resp;
    if (!batch.ok() || batch.to.value() != me_) {
      spdlog::warn("event=bad_raft_batch conn={} peer={} error=\"{}\"", conn.id, conn.peer,
                   batch.ok() ? "addressed to node " + std::to_string(batch.to.value()) : batch.error);
      resp.error_code = static_cast<int16_t>(proto::ErrorCode::kInvalidRequest);
    } else {
      quorum_.deliver(std::move(batch.messages));
    }
    co_return now(answer(cid, resp, version));
  }

  if (key == raft::rpc::ControllerForwardRequest::kApiKey && version == 0) {
    raft::rpc::ControllerForwardRequest req;
    wire::Reader br(body);
    raft::rpc::ControllerForwardResponse resp;
    if (!req.decode(br, 0) || !br.ok()) co_return now(Response::close());
    if (!quorum_.is_leader()) {
      resp.error_code = static_cast<int16_t>(proto::ErrorCode::kNotController);
      resp.metadata_offset = quorum_.applied();
      co_return now(answer(cid, resp, 0));
    }
    auto dispatched = kafka_.dispatch(req.request_data, conn);
    Dispatched inner = co_await std::move(dispatched);
    Response out = std::move(inner.response);
    if (inner.later) out = co_await std::move(*inner.later);
    if (out.action != Response::Action::kSend || !out.splices.empty()) co_return now(Response::close());
    resp.response_data = std::move(out.bytes);
    resp.metadata_offset = quorum_.applied();
    co_return now(answer(cid, resp, 0));
  }

  if (key == proto::BrokerRegistrationRequest::kApiKey && version >= 0 &&
      version <= proto::BrokerRegistrationRequest::kHighestVersion) {
    proto::BrokerRegistrationRequest req;
    wire::Reader br(body);
    if (!req.decode(br, version) || !br.ok()) co_return now(Response::close());
    cluster::BrokerRegistrationRequest reg;
    reg.id = req.broker_id;
    reg.incarnation = req.incarnation_id.bytes;
    for (const auto& l : req.listeners) reg.endpoints.push_back({l.name, l.host, l.port, l.security_protocol});
    if (req.rack && !req.rack->empty()) reg.rack = req.rack;
    // A named local: g++ 12 destroys non-trivial temporaries of a co_await operand twice.
    auto op = await_callback<WriteOutcome>(
        ex, [this, reg](std::function<void(WriteOutcome)> done) { quorum_.register_broker(reg, std::move(done)); });
    WriteOutcome outcome = co_await std::move(op);
    proto::BrokerRegistrationResponse resp;
    resp.error_code = outcome.result.error;
    if (outcome.result.ok()) resp.broker_epoch = outcome.applied;  // register_broker answers with the epoch
    co_return now(answer(cid, resp, version));
  }

  if (key == proto::BrokerHeartbeatRequest::kApiKey && version >= 0 &&
      version <= proto::BrokerHeartbeatRequest::kHighestVersion) {
    proto::BrokerHeartbeatRequest req;
    wire::Reader br(body);
    if (!req.decode(br, version) || !br.ok()) co_return now(Response::close());
    cluster::BrokerHeartbeatRequest beat{req.broker_id, req.broker_epoch, req.current_metadata_offset,
                                         req.want_shut_down};
    auto op = await_callback<ControllerQuorum::BeatAnswer>(
        ex, [this, beat](std::function<void(ControllerQuorum::BeatAnswer)> done) {
          quorum_.heartbeat(beat, std::move(done));
        });
    ControllerQuorum::BeatAnswer a = co_await std::move(op);
    proto::BrokerHeartbeatResponse resp;
    resp.error_code = a.error;
    resp.is_fenced = a.fenced;
    resp.is_caught_up = a.caught_up;
    resp.should_shut_down = a.should_shut_down;
    co_return now(answer(cid, resp, version));
  }

  if (key == proto::AllocateProducerIdsRequest::kApiKey && version == 0) {
    proto::AllocateProducerIdsRequest req;
    wire::Reader br(body);
    if (!req.decode(br, version) || !br.ok()) co_return now(Response::close());
    struct Block {
      int16_t error = 0;
      int64_t start = -1;
    };
    auto op = await_callback<Block>(ex, [this, req](std::function<void(Block)> done) {
      quorum_.allocate_block(req.broker_id, req.broker_epoch, cluster::ProducerIds::kBlockSize,
                             [done](int16_t error, int64_t start) { done({error, start}); });
    });
    Block b = co_await std::move(op);
    proto::AllocateProducerIdsResponse resp;
    resp.error_code = b.error;
    resp.producer_id_start = b.start;
    resp.producer_id_len = b.error == 0 ? static_cast<int32_t>(cluster::ProducerIds::kBlockSize) : 0;
    co_return now(answer(cid, resp, version));
  }

  spdlog::warn("event=unsupported_controller_api conn={} peer={} api_key={} api_version={}", conn.id, conn.peer, key,
               version);
  co_return now(Response::close());
}

}  // namespace millrace::broker
