#include "cluster/metadata/records/codec.h"

#include <utility>

namespace millrace::cluster::records {
namespace {

// Decodes a record of the alternative whose kApiKey is `type` into `out`.
template <size_t I = 0>
bool decode_as(int16_t type, int16_t version, wire::Reader& r, AnyRecord& out, bool& known) {
  if constexpr (I < std::variant_size_v<AnyRecord>) {
    using T = std::variant_alternative_t<I, AnyRecord>;
    if (T::kApiKey != type) return decode_as<I + 1>(type, version, r, out, known);
    known = true;
    T rec;
    if (!rec.decode(r, version)) return false;
    out = std::move(rec);
    return true;
  } else {
    known = false;
    return false;
  }
}

}  // namespace

int16_t record_type(const AnyRecord& r) {
  return std::visit([](const auto& rec) { return std::decay_t<decltype(rec)>::kApiKey; }, r);
}

std::vector<uint8_t> encode_record(const AnyRecord& r, int16_t version) {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  w.uvarint(kFrameVersion);
  w.uvarint(static_cast<uint32_t>(record_type(r)));
  w.uvarint(static_cast<uint32_t>(version));
  std::visit([&](const auto& rec) { rec.encode(w, version); }, r);
  return out;
}

std::vector<uint8_t> encode_record(const AnyRecord& r) {
  int16_t version =
      std::visit([](const auto& rec) { return std::decay_t<decltype(rec)>::kHighestVersion; }, r);
  return encode_record(r, version);
}

DecodedRecord decode_record(std::span<const uint8_t> bytes) {
  DecodedRecord out;
  wire::Reader r(bytes);
  uint32_t frame = r.uvarint();
  uint32_t type = r.uvarint();
  uint32_t version = r.uvarint();
  if (!r.ok()) {
    out.error = "metadata record: truncated frame header (" + std::to_string(bytes.size()) + " bytes)";
    return out;
  }
  if (frame != kFrameVersion) {
    out.error = "metadata record: frame version " + std::to_string(frame) + ", expected " +
                std::to_string(kFrameVersion);
    return out;
  }
  if (type > 0x7fff || record_lowest_version(static_cast<int16_t>(type)) < 0) {
    out.error = "metadata record: unknown record type " + std::to_string(type);
    return out;
  }
  auto t = static_cast<int16_t>(type);
  if (version > 0x7fff || static_cast<int16_t>(version) < record_lowest_version(t) ||
      static_cast<int16_t>(version) > record_highest_version(t)) {
    out.error = "metadata record: " + std::string(record_type_name(t)) + " version " + std::to_string(version) +
                " outside " + std::to_string(record_lowest_version(t)) + ".." +
                std::to_string(record_highest_version(t));
    return out;
  }
  out.value.version = static_cast<int16_t>(version);
  bool known = false;
  if (!decode_as(t, out.value.version, r, out.value.record, known) || !r.ok()) {
    out.error = "metadata record: " + std::string(record_type_name(t)) + " v" + std::to_string(version) +
                " is truncated or malformed";
    return out;
  }
  if (!r.at_end()) {
    out.error = "metadata record: " + std::string(record_type_name(t)) + " v" + std::to_string(version) + " has " +
                std::to_string(r.remaining()) + " bytes after its end";
    return out;
  }
  return out;
}

}  // namespace millrace::cluster::records
