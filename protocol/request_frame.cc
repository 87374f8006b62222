#include "protocol/request_frame.h"

#include "protocol/generated/api_keys.h"
#include "protocol/wire/reader.h"

namespace millrace::proto {

std::optional<RequestFrame> parse_request_frame(std::span<const uint8_t> frame) {
  wire::Reader peek(frame);
  int16_t api_key = peek.int16();
  int16_t api_version = peek.int16();
  if (!peek.ok()) return std::nullopt;

  RequestFrame out;
  out.header_version = request_header_version(api_key, api_version);
  wire::Reader r(frame);
  if (!out.header.decode(r, out.header_version)) return std::nullopt;
  out.body = r.rest();
  return out;
}

void encode_request_frame(const RequestHeader& header, const RequestBody& body, wire::Writer& w) {
  int16_t hv = request_header_version(header.request_api_key, header.request_api_version);
  header.encode(w, hv);
  encode_body(body, header.request_api_version, w);
}

std::optional<ResponseFrame> parse_response_frame(std::span<const uint8_t> frame, int16_t api_key,
                                                  int16_t api_version) {
  ResponseFrame out;
  out.header_version = response_header_version(api_key, api_version);
  wire::Reader r(frame);
  if (!out.header.decode(r, out.header_version)) return std::nullopt;
  out.body = r.rest();
  return out;
}

void encode_response_frame(int32_t correlation_id, const ResponseBody& body, int16_t api_version,
                           wire::Writer& w) {
  ResponseHeader header;
  header.correlation_id = correlation_id;
  header.encode(w, response_header_version(api_key_of(body), api_version));
  encode_body(body, api_version, w);
}

size_t begin_size_prefix(wire::Writer& w) {
  size_t at = w.reserve_int32();
  return at;
}

void finish_size_prefix(wire::Writer& w, size_t at) {
  size_t spliced = 0;
  for (const auto& s : w.splices()) {
    if (s.at_offset >= at) spliced += static_cast<size_t>(s.region.length);
  }
  w.patch_int32(at, static_cast<int32_t>(w.size() - at - 4 + spliced));
}

}  // namespace millrace::proto
