// Decoding a request body the way Kafka does.
//
// Kafka's RequestContext.parseRequest reads the fields the request's version
// defines from the frame and ignores whatever follows the last of them: bytes
// after the body are not an error. librdkafka 2.1 and later send an all-topics
// Metadata request (v9+) with three such bytes, so a broker that insists on
// consuming the whole frame breaks `kcat -L`, regex subscriptions and admin
// listings. Inside the body nothing is relaxed: a length (string, bytes, array,
// tagged field) that runs past the frame is still kMalformed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/generated/api_registry.h"

namespace millrace::broker {

struct DecodedRequest {
  proto::DecodeStatus status = proto::DecodeStatus::kUnknownApiKey;
  size_t trailing = 0;  // bytes after the body that were ignored (kOk only)
};

// Decodes `body` (the frame after the request header) into `out`; `out` is
// replaced on kOk only.
DecodedRequest decode_request_as_kafka(int16_t api_key, int16_t api_version, std::span<const uint8_t> body,
                                       proto::RequestBody& out);

}  // namespace millrace::broker
