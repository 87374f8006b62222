#include "broker/controller/controller_dispatcher.h"

#include <spdlog/spdlog.h>

#include <boost/asio/this_coro.hpp>

#include "broker/controller/controller_request.h"
#include "broker/handlers/await_callback.h"
#include "broker/kafka/api_table.h"
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
#include "raft/rpc/generated/partition_leadership_response.h"
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
  // The Kafka requests of `kafka-metadata-quorum.sh --bootstrap-controller`
  // go through the Kafka dispatcher, marked as from a controller listener.
  if (frame.size() >= 2 && controller_listener_api(static_cast<int16_t>((frame[0] << 8) | frame[1]))) {
    ConnectionInfo here = conn;
    here.controller_listener = true;
    auto kafka = kafka_.dispatch(frame, here);
    Dispatched d = co_await std::move(kafka);
    co_return d;
  }
  auto req = parse_controller_request(frame);
  if (!req.ok()) {
    spdlog::warn("event=bad_controller_request conn={} peer={} api_key={} api_version={} error=\"{}\"", conn.id,
                 conn.peer, req.api_key, req.api_version, req.error);
    co_return now(Response::close());
  }
  const int32_t cid = req.correlation_id;
  const int16_t version = req.api_version;
  auto ex = co_await asio::this_coro::executor;

  if (auto* batch = std::get_if<raft::rpc::DecodedBatch>(&req.body)) {
    raft::rpc::RaftBatchResponse resp;
    resp.node_id = me_;
    const bool to_anyone = batch->poll && batch->to == raft::kNoNode && batch->messages.empty();
    if (batch->to.value() != me_ && !to_anyone) {
      spdlog::warn("event=bad_raft_batch conn={} peer={} error=\"addressed to node {}\"", conn.id, conn.peer,
                   batch->to.value());
      resp.error_code = static_cast<int16_t>(proto::ErrorCode::kInvalidRequest);
    } else if (batch->poll) {
      // An observer's poll: answered with what this node holds for it.
      struct Polled {
        std::optional<std::vector<uint8_t>> reply;
        int32_t leader = -1;
      };
      const int32_t from = static_cast<int32_t>(batch->from.value());
      auto op = await_callback<Polled>(ex, [this, from, msgs = std::move(batch->messages)](
                                               std::function<void(Polled)> done) mutable {
        quorum_.poll(from, std::move(msgs), [done](std::optional<std::vector<uint8_t>> reply, int32_t leader) {
          done({std::move(reply), leader});
        });
      });
      Polled polled = co_await std::move(op);
      resp.reply = std::move(polled.reply);
      resp.leader_id = polled.leader;
    } else {
      quorum_.deliver(std::move(batch->messages));
    }
    co_return now(answer(cid, resp, version));
  }

  if (auto* fwd = std::get_if<raft::rpc::ControllerForwardRequest>(&req.body)) {
    raft::rpc::ControllerForwardResponse resp;
    if (!quorum_.is_leader()) {
      resp.error_code = static_cast<int16_t>(proto::ErrorCode::kNotController);
      resp.metadata_offset = quorum_.applied();
      co_return now(answer(cid, resp, 0));
    }
    // As the client the forwarding broker authenticated (Kafka's Envelope):
    // the controller listener is internal, the principal it carries trusted.
    ConnectionInfo client = conn;
    client.security = std::make_shared<SecuritySession>();
    client.security->principal = fwd->principal.value_or("User:ANONYMOUS");
    client.security->host = fwd->client_host.value_or("");
    auto dispatched = kafka_.dispatch(fwd->request_data, client);
    Dispatched inner = co_await std::move(dispatched);
    Response out = std::move(inner.response);
    if (inner.later) out = co_await std::move(*inner.later);
    if (out.action != Response::Action::kSend || !out.splices.empty()) co_return now(Response::close());
    resp.response_data = std::move(out.bytes);
    resp.metadata_offset = quorum_.applied();
    co_return now(answer(cid, resp, 0));
  }

  if (auto* r = std::get_if<proto::BrokerRegistrationRequest>(&req.body)) {
    cluster::BrokerRegistrationRequest reg;
    reg.id = r->broker_id;
    reg.incarnation = r->incarnation_id.bytes;
    for (const auto& l : r->listeners) reg.endpoints.push_back({l.name, l.host, l.port, l.security_protocol});
    if (r->rack && !r->rack->empty()) reg.rack = r->rack;
    // A named local: g++ 12 destroys non-trivial temporaries of a co_await operand twice.
    auto op = await_callback<WriteOutcome>(
        ex, [this, reg](std::function<void(WriteOutcome)> done) { quorum_.register_broker(reg, std::move(done)); });
    WriteOutcome outcome = co_await std::move(op);
    proto::BrokerRegistrationResponse resp;
    resp.error_code = outcome.result.error;
    if (outcome.result.ok()) resp.broker_epoch = outcome.applied;  // register_broker answers with the epoch
    co_return now(answer(cid, resp, version));
  }

  if (auto* h = std::get_if<proto::BrokerHeartbeatRequest>(&req.body)) {
    cluster::BrokerHeartbeatRequest beat{h->broker_id, h->broker_epoch, h->current_metadata_offset, h->want_shut_down};
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

  if (auto* l = std::get_if<raft::rpc::PartitionLeadershipRequest>(&req.body)) {
    auto op = await_callback<int16_t>(ex, [this, report = leadership_report(*l)](std::function<void(int16_t)> done) {
      quorum_.decide_leadership(report, std::move(done));
    });
    raft::rpc::PartitionLeadershipResponse resp;
    resp.error_code = co_await std::move(op);
    co_return now(answer(cid, resp, 0));
  }

  if (auto* f = std::get_if<proto::FetchSnapshotRequest>(&req.body)) {
    auto op = await_callback<proto::FetchSnapshotResponse>(
        ex, [this, f](std::function<void(proto::FetchSnapshotResponse)> done) {
          quorum_.serve_snapshot(*f, std::move(done));
        });
    proto::FetchSnapshotResponse resp = co_await std::move(op);
    co_return now(answer(cid, resp, version));
  }

  const auto& alloc = std::get<proto::AllocateProducerIdsRequest>(req.body);
  struct Block {
    int16_t error = 0;
    int64_t start = -1;
  };
  auto op = await_callback<Block>(ex, [this, alloc](std::function<void(Block)> done) {
    quorum_.allocate_block(alloc.broker_id, alloc.broker_epoch, cluster::ProducerIds::kBlockSize,
                           [done](int16_t error, int64_t start) { done({error, start}); });
  });
  Block b = co_await std::move(op);
  proto::AllocateProducerIdsResponse resp;
  resp.error_code = b.error;
  resp.producer_id_start = b.start;
  resp.producer_id_len = b.error == 0 ? static_cast<int32_t>(cluster::ProducerIds::kBlockSize) : 0;
  co_return now(answer(cid, resp, version));
}

}  // namespace millrace::broker
