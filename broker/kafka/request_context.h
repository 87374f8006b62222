// What one request's handler sees besides its decoded body.
#pragma once

#include <utility>
#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>
#include <vector>

#include "broker/kafka/broker_state.h"
#include "broker/server/request_dispatcher.h"
#include "protocol/generated/error_codes.h"

namespace millrace::broker {

struct RequestContext {
  BrokerState& broker;
  int16_t api_key = 0;
  int16_t api_version = 0;
  std::string client_id;
  const ConnectionInfo& conn;
  boost::asio::any_io_executor executor;
  // File handles that must stay open until the response is sent (sendfile).
  std::vector<std::shared_ptr<const void>> keep_alive;
  bool no_response = false;  // Produce acks=0

  // Counts a non-zero error in millrace_request_errors_total; returns it.
  int16_t note(int16_t code) {
    if (code != 0) broker.metrics.count_error(api_key, proto::error_name(code));
    return code;
  }
  int16_t note(proto::ErrorCode code) { return note(static_cast<int16_t>(code)); }
};

}  // namespace millrace::broker
