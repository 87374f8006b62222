// Request and response frames: the header plus the still-encoded body.
//
// On the wire every Kafka frame is `int32 size` followed by `size` bytes; the
// functions here take and produce the bytes AFTER the size prefix:
//
//   request  = RequestHeader (v1: api_key int16, api_version int16,
//              correlation_id int32, client_id int16-length nullable string;
//              v2 adds a tagged-field section) + body
//   response = ResponseHeader (v0: correlation_id int32; v1 adds tagged
//              fields) + body
//
// The header version follows from the api key and version (api_keys.h).
// Bodies are decoded/encoded through api_registry.h (RequestBody variant).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocol/generated/api_registry.h"
#include "protocol/generated/request_header.h"
#include "protocol/generated/response_header.h"
#include "protocol/wire/writer.h"

namespace millrace::proto {

struct RequestFrame {
  RequestHeader header;
  int16_t header_version = 1;
  std::span<const uint8_t> body;  // points into the frame given to parse_request_frame
};

// Reads the request header. Returns nullopt only when the header itself is
// malformed (truncated, bad client id length, bad tagged fields). An unknown
// api key or version is not a failure: the header is read with the version
// the key implies (v1 for unknown keys) and the caller answers with an error.
std::optional<RequestFrame> parse_request_frame(std::span<const uint8_t> frame);

// Appends header + body (no size prefix). The header version is derived from
// header.request_api_key/request_api_version; the body is encoded in
// header.request_api_version.
void encode_request_frame(const RequestHeader& header, const RequestBody& body, wire::Writer& w);

struct ResponseFrame {
  ResponseHeader header;
  int16_t header_version = 0;
  std::span<const uint8_t> body;
};

// Reads a response header; the caller knows which request it answers.
std::optional<ResponseFrame> parse_response_frame(std::span<const uint8_t> frame, int16_t api_key,
                                                  int16_t api_version);

// Appends response header + body (no size prefix), in `api_version` of the API
// the body belongs to.
void encode_response_frame(int32_t correlation_id, const ResponseBody& body, int16_t api_version,
                           wire::Writer& w);

// Writes a 4-byte size prefix placeholder and returns its offset; after the
// frame is appended, finish_size_prefix() patches in the frame length
// (including spliced file regions).
size_t begin_size_prefix(wire::Writer& w);
void finish_size_prefix(wire::Writer& w, size_t at);

}  // namespace millrace::proto
