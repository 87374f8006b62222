// libFuzzer target: what the controller listener reads from the network
// (broker/controller/controller_request.h): a request header v2 and the body
// of RaftBatch, ControllerForward, PartitionLeadership, BrokerRegistration,
// BrokerHeartbeat, AllocateProducerIds or FetchSnapshot. Oracles beyond "no crash / no sanitizer report": a
// request that parses names one of those APIs in a served version, and a
// refusal always says why.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "broker/controller/controller_request.h"

using namespace millrace;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = broker::parse_controller_request(std::span<const uint8_t>(data, size));
  if (r.ok()) {
    if (std::holds_alternative<std::monostate>(r.body)) std::abort();
    if (r.api_key != 10000 && r.api_key != 10001 && r.api_key != 10002 && r.api_key != 62 && r.api_key != 63 && r.api_key != 67 &&
        r.api_key != 59) std::abort();
  } else if (!std::holds_alternative<std::monostate>(r.body)) {
    std::abort();
  }
  return 0;
}
