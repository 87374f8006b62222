// KafkaDispatcher: one request frame in, one response out.
//
//   parse header -> check the API and version against api_table()
//   -> decode body -> handler (broker/handlers/) -> encode response
//
// A version outside the advertised range gets UNSUPPORTED_VERSION: ApiVersions
// KIP-511's v0 reply, other APIs their response with the top-level error
// code set where that version has one (kafka/unsupported_version.h). An
// undecodable header, an unknown API key, any other unsupported version or
// a malformed body closes that connection only, as Kafka does. Runs on the
// connection's thread.
//
// Pipelining: a handler that returns Staged<Body> (kafka/staged.h; Produce)
// hands its stage 2 to the connection as Dispatched::later, which encodes the
// response and observes the request's latency when stage 2 ends.
// may_pipeline() is true for Produce only.
#pragma once

#include "broker/kafka/broker_state.h"
#include "broker/server/request_dispatcher.h"

namespace millrace::broker {

class KafkaDispatcher : public RequestDispatcher {
 public:
  explicit KafkaDispatcher(BrokerState& broker) : broker_(broker) {}
  boost::asio::awaitable<Dispatched> dispatch(std::span<const uint8_t> frame, const ConnectionInfo& conn) override;
  bool may_pipeline(std::span<const uint8_t> frame) const override;

 private:
  boost::asio::awaitable<Dispatched> raw_sasl_token(std::span<const uint8_t> frame, const ConnectionInfo& conn);
  BrokerState& broker_;
};

}  // namespace millrace::broker
