// KafkaDispatcher: one request frame in, one response out.
//
//   parse header -> check the API and version against api_table()
//   -> decode body -> handler (broker/handlers/) -> encode response
//
// An undecodable header, an unknown API key, a version outside the
// advertised range (except ApiVersions, which gets KIP-511's v0 reply with
// UNSUPPORTED_VERSION) or a malformed body closes that connection only, as
// Kafka does. Runs on the connection's thread.
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
