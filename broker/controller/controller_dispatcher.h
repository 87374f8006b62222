// The controller listener (controller.listener.names): what voters and
// brokers send the controller quorum, each a Kafka-framed request with a
// request header v2 (every API here is flexible):
//
//   RaftBatchRequest (10000)      Raft messages for the metadata log -> ControllerQuorum::deliver
//   ControllerForwardRequest (10001)  a client's admin request forwarded by another
//                                 node: served here through the Kafka dispatcher
//                                 when this node is the active controller, else
//                                 NOT_CONTROLLER; answered with the applied offset
//   PartitionLeadershipRequest (10002)  a broker's report of the replicated
//                                 partitions it leads -> ControllerQuorum::decide_leadership
//                                 (NOT_CONTROLLER unless this node is the active controller)
//   BrokerRegistration (62), BrokerHeartbeat (63)   broker membership (KRaft's APIs)
//   AllocateProducerIds (67)      a block of producer ids (ProducerIdsRecord)
//   FetchSnapshot (59)            the metadata snapshot, in chunks
//   ApiVersions, DescribeCluster, DescribeQuorum, AddRaftVoter, RemoveRaftVoter
//                                 Kafka's, through the Kafka dispatcher (header as
//                                 Kafka frames it), so `kafka-metadata-quorum.sh
//                                 --bootstrap-controller` works (KIP-853/919)
//
// Anything else closes the connection. Bad bytes are answered with an error
// or a close, never a crash (fuzz: raft_rpc_fuzz covers the batch decoder).
#pragma once

#include "broker/controller/controller_quorum.h"
#include "broker/server/request_dispatcher.h"

namespace millrace::broker {

class ControllerDispatcher : public RequestDispatcher {
 public:
  ControllerDispatcher(ControllerQuorum& quorum, RequestDispatcher& kafka, int32_t me)
      : quorum_(quorum), kafka_(kafka), me_(me) {}
  boost::asio::awaitable<Dispatched> dispatch(std::span<const uint8_t> frame, const ConnectionInfo& conn) override;
  bool may_pipeline(std::span<const uint8_t>) const override { return false; }

 private:
  ControllerQuorum& quorum_;
  RequestDispatcher& kafka_;
  const int32_t me_;
};

}  // namespace millrace::broker
