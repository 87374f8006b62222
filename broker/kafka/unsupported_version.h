// The answer to a known API at a version the broker does not serve.
//
// Kafka's getErrorResponse: the API's response with its top-level error code
// set to UNSUPPORTED_VERSION (35), encoded in the version the client asked
// for, so the client can parse it. That exists only when the protocol codec
// knows the version and the response carries a top-level error code in it
// (JoinGroup, Heartbeat, InitProducerId, ListGroups, Fetch v7+, ...). For the
// rest (Metadata, Produce, Fetch v0-6, or a version beyond the codec) there
// is nothing the client could read, and the caller closes the connection, as
// Kafka does for a request it cannot parse. ApiVersions has its own rule
// (KIP-511, in the dispatcher).
#pragma once

#include <cstdint>
#include <optional>

#include "protocol/generated/api_registry.h"

namespace millrace::broker {

std::optional<proto::ResponseBody> unsupported_version_response(int16_t api_key, int16_t api_version);
// The same with any top-level error code (an authorization failure of the whole request).
std::optional<proto::ResponseBody> top_level_error_response(int16_t api_key, int16_t api_version, int16_t error);

}  // namespace millrace::broker
