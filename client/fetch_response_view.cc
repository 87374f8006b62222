#include "client/fetch_response_view.h"

#include "protocol/wire/reader.h"

namespace millrace::client {

namespace {

constexpr int16_t kFirstFlexible = 12;

// Array/bytes/string lengths: int32 (or int16 for strings) before v12, uvarint
// length+1 (0 = null) from v12. -1 means null; a negative value other than -1 or a
// failed reader means malformed (the reader is then failed).
int64_t array_length(wire::Reader& r, bool flexible) {
  if (flexible) return static_cast<int64_t>(r.uvarint()) - 1;
  return r.int32();
}

int64_t string_length(wire::Reader& r, bool flexible) {
  if (flexible) return static_cast<int64_t>(r.uvarint()) - 1;
  return r.int16();
}

// Skips a tagged-field section (we need none of the Fetch response's tags).
void skip_tags(wire::Reader& r) {
  uint32_t n = r.uvarint();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    (void)r.uvarint();            // tag
    r.skip(r.uvarint());          // size, then the field
  }
}

// Guards array counts against hostile values: every element takes at least one
// byte, so a count above the bytes left cannot be right.
bool plausible(wire::Reader& r, int64_t n) {
  if (n < 0 || static_cast<uint64_t>(n) > r.remaining()) {
    r.fail();
    return false;
  }
  return true;
}

}  // namespace

std::optional<FetchResponseView> parse_fetch_response(std::span<const uint8_t> body, int16_t version) {
  const bool flex = version >= kFirstFlexible;
  wire::Reader r(body);
  FetchResponseView out;
  out.throttle_time_ms = r.int32();
  if (version >= 7) {
    out.error_code = r.int16();
    (void)r.int32();   // session_id
  }
  int64_t ntopics = array_length(r, flex);
  if (!plausible(r, ntopics)) return std::nullopt;
  out.topics.resize(static_cast<size_t>(ntopics));
  for (auto& t : out.topics) {
    int64_t name_len = string_length(r, flex);
    if (name_len < 0) return std::nullopt;   // topic names are not nullable
    t.topic = r.string(static_cast<size_t>(name_len));
    int64_t nparts = array_length(r, flex);
    if (!plausible(r, nparts)) return std::nullopt;
    t.partitions.resize(static_cast<size_t>(nparts));
    for (auto& p : t.partitions) {
      p.partition = r.int32();
      p.error_code = r.int16();
      p.high_watermark = r.int64();
      (void)r.int64();                     // last_stable_offset
      if (version >= 5) (void)r.int64();   // log_start_offset
      int64_t naborted = array_length(r, flex);
      if (naborted >= 0) {
        if (!plausible(r, naborted)) return std::nullopt;
        for (int64_t i = 0; i < naborted && r.ok(); ++i) {
          r.skip(16);   // producer_id, first_offset
          if (flex) skip_tags(r);
        }
      } else if (naborted != -1) {
        return std::nullopt;
      }
      if (version >= 11) (void)r.int32();   // preferred_read_replica
      int64_t nrec = array_length(r, flex);
      if (nrec >= 0) p.records = r.bytes(static_cast<size_t>(nrec));
      else if (nrec != -1) return std::nullopt;
      if (flex) skip_tags(r);
      if (!r.ok()) return std::nullopt;
    }
    if (flex) skip_tags(r);
  }
  if (flex) skip_tags(r);
  if (!r.ok()) return std::nullopt;
  return out;
}

}  // namespace millrace::client
