#include "broker/controller/controller_request.h"

#include "protocol/wire/reader.h"

namespace millrace::broker {
namespace {

template <typename Msg>
std::string decode_whole(std::span<const uint8_t> body, int16_t version, Msg& out) {
  wire::Reader r(body);
  if (!out.decode(r, version) || !r.ok()) return "the body does not decode";
  if (r.remaining() != 0) return std::to_string(r.remaining()) + " bytes after the body";
  return {};
}

}  // namespace

ControllerRequest parse_controller_request(std::span<const uint8_t> frame) {
  ControllerRequest out;
  wire::Reader r(frame);
  out.api_key = r.int16();
  out.api_version = r.int16();
  out.correlation_id = r.int32();
  const int16_t client_len = r.int16();
  if (client_len > 0) r.skip(static_cast<size_t>(client_len));
  const uint32_t tags = r.uvarint();
  for (uint32_t i = 0; i < tags && r.ok(); ++i) {
    r.uvarint();
    r.skip(r.uvarint());
  }
  if (!r.ok() || client_len < -1) {
    out.error = "the request header does not decode";
    return out;
  }
  auto body = frame.subspan(frame.size() - r.remaining());
  const int16_t key = out.api_key, v = out.api_version;
  auto take = [&](auto msg, int16_t lowest, int16_t highest) {
    if (v < lowest || v > highest) {
      out.error = "version " + std::to_string(v) + " of api " + std::to_string(key) + " is not served";
      return;
    }
    out.error = decode_whole(body, v, msg);
    if (out.error.empty()) out.body = std::move(msg);
  };
  if (key == raft::rpc::RaftBatchRequest::kApiKey) {
    if (v != raft::rpc::kBatchVersion) {
      out.error = "RaftBatch version " + std::to_string(v) + " is not served";
      return out;
    }
    auto batch = raft::rpc::decode_batch(body);
    if (!batch.ok()) out.error = batch.error;
    else out.body = std::move(batch);
  } else if (key == raft::rpc::ControllerForwardRequest::kApiKey) {
    take(raft::rpc::ControllerForwardRequest{}, 0, 0);
  } else if (key == raft::rpc::PartitionLeadershipRequest::kApiKey) {
    take(raft::rpc::PartitionLeadershipRequest{}, 0, 0);
  } else if (key == proto::BrokerRegistrationRequest::kApiKey) {
    take(proto::BrokerRegistrationRequest{}, 0, proto::BrokerRegistrationRequest::kHighestVersion);
  } else if (key == proto::BrokerHeartbeatRequest::kApiKey) {
    take(proto::BrokerHeartbeatRequest{}, 0, proto::BrokerHeartbeatRequest::kHighestVersion);
  } else if (key == proto::AllocateProducerIdsRequest::kApiKey) {
    take(proto::AllocateProducerIdsRequest{}, 0, 0);
  } else if (key == proto::FetchSnapshotRequest::kApiKey) {
    take(proto::FetchSnapshotRequest{}, 0, proto::FetchSnapshotRequest::kHighestVersion);
  } else {
    out.error = "api " + std::to_string(key) + " is not served on the controller listener";
  }
  return out;
}

}  // namespace millrace::broker
