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
#pragma once

#include "broker/core/broker_state.h"
#include "broker/server/request_dispatcher.h"

namespace millrace::broker {

class KafkaDispatcher : public RequestDispatcher {
 public:
  explicit KafkaDispatcher(BrokerState& broker) : broker_(broker) {}
  boost::asio::awaitable<Response> dispatch(std::span<const uint8_t> frame, const ConnectionInfo& conn) override;

 private:
  BrokerState& broker_;
};

}  // namespace millrace::broker
