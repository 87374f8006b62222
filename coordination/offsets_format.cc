#include "coordination/offsets_format.h"

#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::coordination {

namespace {
void put_string(wire::Writer& w, std::string_view s) {
  w.int16(static_cast<int16_t>(s.size()));
  w.string(s);
}
void put_nullable(wire::Writer& w, const std::optional<std::string>& s) {
  if (!s) { w.int16(-1); return; }
  put_string(w, *s);
}
std::optional<std::string> get_nullable(wire::Reader& r) {
  int16_t n = r.int16();
  if (n < 0) return std::nullopt;
  return std::string(r.string(static_cast<size_t>(n)));
}
std::string get_string(wire::Reader& r) {
  int16_t n = r.int16();
  if (n < 0) { r.fail(); return {}; }
  return std::string(r.string(static_cast<size_t>(n)));
}
void put_bytes(wire::Writer& w, const std::vector<uint8_t>& b) {
  w.int32(static_cast<int32_t>(b.size()));
  w.bytes(b);
}
std::vector<uint8_t> get_bytes(wire::Reader& r) {
  int32_t n = r.int32();
  if (n < 0) { r.fail(); return {}; }
  auto s = r.bytes(static_cast<size_t>(n));
  return {s.begin(), s.end()};
}
}  // namespace

std::vector<uint8_t> encode_offset_key(const OffsetKey& k) {
  wire::Writer w;
  w.int16(kOffsetKeyVersion);
  put_string(w, k.group);
  put_string(w, k.topic);
  w.int32(k.partition);
  return std::move(w.buffer());
}

std::vector<uint8_t> encode_offset_value(const CommittedOffset& v) {
  wire::Writer w;
  w.int16(kOffsetValueVersion);
  w.int64(v.offset);
  w.int32(v.leader_epoch);
  put_string(w, v.metadata);
  w.int64(v.commit_timestamp_ms);
  return std::move(w.buffer());
}

std::vector<uint8_t> encode_group_key(const GroupKey& k) {
  wire::Writer w;
  w.int16(kGroupKeyVersion);
  put_string(w, k.group);
  return std::move(w.buffer());
}

std::vector<uint8_t> encode_group_value(const GroupValue& v) {
  wire::Writer w;
  w.int16(kGroupValueVersion);
  put_string(w, v.protocol_type);
  w.int32(v.generation);
  put_nullable(w, v.protocol);
  put_nullable(w, v.leader);
  w.int64(v.state_timestamp_ms);
  w.int32(static_cast<int32_t>(v.members.size()));
  for (const auto& m : v.members) {
    put_string(w, m.member_id);
    put_nullable(w, m.group_instance_id);
    put_string(w, m.client_id);
    put_string(w, m.client_host);
    w.int32(m.rebalance_timeout_ms);
    w.int32(m.session_timeout_ms);
    put_bytes(w, m.subscription);
    put_bytes(w, m.assignment);
  }
  return std::move(w.buffer());
}

std::variant<std::monostate, OffsetKey, GroupKey> decode_key(std::span<const uint8_t> bytes) {
  wire::Reader r(bytes);
  int16_t version = r.int16();
  if (version == 0 || version == kOffsetKeyVersion) {
    OffsetKey k;
    k.group = get_string(r);
    k.topic = get_string(r);
    k.partition = r.int32();
    if (r.ok()) return k;
  } else if (version == kGroupKeyVersion) {
    GroupKey k;
    k.group = get_string(r);
    if (r.ok()) return k;
  }
  return std::monostate{};
}

std::optional<CommittedOffset> decode_offset_value(std::span<const uint8_t> bytes) {
  wire::Reader r(bytes);
  int16_t version = r.int16();
  if (version != kOffsetValueVersion) return std::nullopt;
  CommittedOffset v;
  v.offset = r.int64();
  v.leader_epoch = r.int32();
  v.metadata = get_string(r);
  v.commit_timestamp_ms = r.int64();
  if (!r.ok()) return std::nullopt;
  return v;
}

std::optional<GroupValue> decode_group_value(std::span<const uint8_t> bytes) {
  wire::Reader r(bytes);
  int16_t version = r.int16();
  if (version < 0 || version > kGroupValueVersion) return std::nullopt;
  GroupValue v;
  v.protocol_type = get_string(r);
  v.generation = r.int32();
  v.protocol = get_nullable(r);
  v.leader = get_nullable(r);
  if (version >= 2) v.state_timestamp_ms = r.int64();
  int32_t count = r.int32();
  // Each member takes at least 18 bytes (v0); a count the rest cannot hold is corrupt.
  if (!r.ok() || count < 0 || static_cast<size_t>(count) > r.remaining() / 18) return std::nullopt;
  v.members.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count && r.ok(); ++i) {
    GroupMemberValue m;
    m.member_id = get_string(r);
    if (version >= 3) m.group_instance_id = get_nullable(r);
    m.client_id = get_string(r);
    m.client_host = get_string(r);
    if (version >= 1) m.rebalance_timeout_ms = r.int32();
    m.session_timeout_ms = r.int32();
    if (version == 0) m.rebalance_timeout_ms = m.session_timeout_ms;
    m.subscription = get_bytes(r);
    m.assignment = get_bytes(r);
    v.members.push_back(std::move(m));
  }
  if (!r.ok()) return std::nullopt;
  return v;
}

}  // namespace millrace::coordination
