#include "broker/kafka/request_decode.h"

#include "protocol/wire/reader.h"

namespace millrace::broker {

DecodedRequest decode_request_as_kafka(int16_t api_key, int16_t api_version, std::span<const uint8_t> body,
                                       proto::RequestBody& out) {
  DecodedRequest d;
  proto::visit_api(api_key, [&](auto request_type, auto) {
    using Req = typename decltype(request_type)::type;
    if (api_version < Req::kLowestVersion || api_version > Req::kHighestVersion) {
      d.status = proto::DecodeStatus::kUnsupportedVersion;
      return;
    }
    Req msg;
    wire::Reader r(body);
    if (!msg.decode(r, api_version) || !r.ok()) {
      d.status = proto::DecodeStatus::kMalformed;
      return;
    }
    d.status = proto::DecodeStatus::kOk;
    d.trailing = r.remaining();
    out = std::move(msg);
  });
  return d;
}

}  // namespace millrace::broker
