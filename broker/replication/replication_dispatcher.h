// The inter-broker side of the Kafka listener: a RaftBatchRequest (api 10000,
// Millrace's own, outside Kafka's range) from another broker's replication
// service is decoded (raft/rpc's codec, fuzzed by raft_rpc_fuzz) and handed to
// this broker's ReplicationService; every other request goes to the Kafka
// dispatcher unchanged. A batch addressed to another node, or bytes that do not
// decode, close that connection.
#pragma once

#include "broker/replication/replication_service.h"
#include "broker/server/request_dispatcher.h"

namespace millrace::broker {

class ReplicationDispatcher : public RequestDispatcher {
 public:
  ReplicationDispatcher(ReplicationService& replication, RequestDispatcher& kafka, int32_t me)
      : replication_(replication), kafka_(kafka), me_(me) {}
  boost::asio::awaitable<Dispatched> dispatch(std::span<const uint8_t> frame, const ConnectionInfo& conn) override;
  bool may_pipeline(std::span<const uint8_t> frame) const override;

 private:
  ReplicationService& replication_;
  RequestDispatcher& kafka_;
  const int32_t me_;
};

}  // namespace millrace::broker
