// libFuzzer target: untrusted request frames (size prefix already stripped)
// through parse_request_frame, decode_request_body and re-encoding.
//
// Oracle beyond "no crash / no sanitizer report": whatever decodes must
// re-encode to bytes that decode to an equal message and re-encode to the
// same bytes again (encode is a fixed point after one normalisation, e.g. a
// bool byte 2 becoming 1).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>

#include "protocol/request_frame.h"

using namespace millrace;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto frame = proto::parse_request_frame(std::span<const uint8_t>(data, size));
  if (!frame) return 0;
  const int16_t key = frame->header.request_api_key;
  const int16_t version = frame->header.request_api_version;
  proto::RequestBody body;
  if (proto::decode_request_body(key, version, frame->body, body) != proto::DecodeStatus::kOk) return 0;

  wire::Writer first;
  proto::encode_request_frame(frame->header, body, first);
  auto again = proto::parse_request_frame(first.buffer());
  if (!again) std::abort();
  proto::RequestBody body2;
  if (proto::decode_request_body(key, version, again->body, body2) != proto::DecodeStatus::kOk) std::abort();
  if (!(body2 == body) || !(again->header == frame->header)) std::abort();
  wire::Writer second;
  proto::encode_request_frame(again->header, body2, second);
  if (second.buffer() != first.buffer()) std::abort();
  return 0;
}
