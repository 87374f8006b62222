// One request on the controller listener, read from its frame (after the size
// prefix): a request header v2 (api key, version, correlation id, client id,
// tagged fields; every API here is flexible), then the body of one of the APIs
// the listener serves, decoded. Pure; anything else, or bytes that do not
// decode whole, come back with `error` set (the connection is closed). Fuzzed
// by fuzz/controller_request_fuzz.cc.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "protocol/generated/allocate_producer_ids_request.h"
#include "protocol/generated/broker_heartbeat_request.h"
#include "protocol/generated/broker_registration_request.h"
#include "protocol/generated/fetch_snapshot_request.h"
#include "raft/rpc/codec.h"
#include "raft/rpc/generated/controller_forward_request.h"
#include "raft/rpc/generated/partition_leadership_request.h"

namespace millrace::broker {

struct ControllerRequest {
  int16_t api_key = -1;
  int16_t api_version = -1;
  int32_t correlation_id = 0;
  std::variant<std::monostate, raft::rpc::DecodedBatch, raft::rpc::ControllerForwardRequest,
               proto::BrokerRegistrationRequest, proto::BrokerHeartbeatRequest, proto::AllocateProducerIdsRequest,
               proto::FetchSnapshotRequest, raft::rpc::PartitionLeadershipRequest>
      body;
  std::string error;  // empty: body holds the request
  bool ok() const { return error.empty(); }
};

ControllerRequest parse_controller_request(std::span<const uint8_t> frame);

}  // namespace millrace::broker
