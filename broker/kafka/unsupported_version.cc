#include "broker/kafka/unsupported_version.h"

#include <vector>

#include "protocol/generated/error_codes.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::broker {

std::optional<proto::ResponseBody> unsupported_version_response(int16_t api_key, int16_t api_version) {
  return top_level_error_response(api_key, api_version, proto::code(proto::ErrorCode::kUnsupportedVersion));
}

std::optional<proto::ResponseBody> top_level_error_response(int16_t api_key, int16_t api_version, int16_t error) {
  std::optional<proto::ResponseBody> out;
  proto::visit_api(api_key, [&](auto, auto response_type) {
    using Resp = typename decltype(response_type)::type;
    if constexpr (requires(Resp r) { r.error_code = int16_t{}; }) {
      if (api_version < Resp::kLowestVersion || api_version > Resp::kHighestVersion) return;
      Resp resp;
      resp.error_code = error;
      // The codec writes only the fields a version has: decode what was
      // encoded to learn whether the error code is among them.
      std::vector<uint8_t> bytes;
      wire::Writer w(bytes);
      resp.encode(w, api_version);
      Resp back;
      wire::Reader r(bytes);
      if (!back.decode(r, api_version) || back.error_code != resp.error_code) return;
      out = proto::ResponseBody(std::move(resp));
    }
  });
  return out;
}

}  // namespace millrace::broker
