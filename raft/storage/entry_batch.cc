#include "raft/storage/entry_batch.h"

#include <optional>

#include "protocol/record/batch_builder.h"
#include "protocol/record/batch_header.h"
#include "protocol/record/control_record.h"
#include "protocol/record/record_reader.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::raft {

using storage::Errc;
using storage::Result;
using storage::Status;

namespace {

constexpr int16_t kControlKeyVersion = 0;
constexpr int16_t kLeaderChangeVersion = 0;
constexpr int16_t kLogStartVersion = 0;

void put_voters(wire::Writer& w, const std::vector<NodeId>& v) {
  w.uvarint(static_cast<uint32_t>(v.size() + 1));  // compact array: length + 1
  for (NodeId n : v) {
    w.int32(n.value());
    w.uvarint(0);  // no tagged fields
  }
}

bool get_tags_empty(wire::Reader& r) { return r.uvarint() == 0 && r.ok(); }

bool get_voters(wire::Reader& r, std::vector<NodeId>* v) {
  uint32_t n = r.uvarint();
  if (!r.ok() || n == 0) return false;  // 0 = null array: not allowed here
  --n;
  if (n > r.remaining() / 5) return false;  // each voter takes at least 5 bytes
  v->clear();
  for (uint32_t i = 0; i < n; ++i) {
    v->push_back(NodeId(r.int32()));
    if (!get_tags_empty(r)) return false;
  }
  return r.ok();
}

Status invalid_entry(const std::string& what) { return Status(Errc::kInvalidArgument, what); }

std::string entry_name(const Entry& e) {
  std::string s = "entry [";
  s.append(std::to_string(e.first.value()));
  s.append(", ");
  s.append(std::to_string(e.last.value()));
  s.append("]");
  return s;
}

// The control record type of a non-transactional control batch; nullopt for
// any other batch or a malformed one.
std::optional<int16_t> raft_control_type(std::span<const uint8_t> batch, const record::BatchHeader& h,
                                         std::vector<uint8_t>& value) {
  if (!h.is_control() || h.is_transactional()) return std::nullopt;
  std::vector<uint8_t> scratch;
  record::RecordReader reader(batch, scratch);
  record::Record rec;
  if (!reader.next(rec)) return std::nullopt;
  auto type = record::control_record_type(rec);
  if (!type || (*type != kControlTypeLeaderChange && *type != kControlTypeVoters && *type != kControlTypeLogStart))
    return std::nullopt;
  if (rec.value) value.assign(rec.value->begin(), rec.value->end());
  return type;
}

}  // namespace

std::vector<uint8_t> encode_log_start(Offset offset) {
  wire::Writer w;
  w.int16(kLogStartVersion);
  w.int64(offset.value());
  return w.buffer();
}

bool decode_log_start(std::span<const uint8_t> bytes, Offset* out) {
  wire::Reader r(bytes);
  if (r.int16() != kLogStartVersion) return false;
  const int64_t o = r.int64();
  if (!r.ok() || !r.at_end() || o < 0) return false;
  *out = Offset(o);
  return true;
}

std::vector<uint8_t> encode_leader_change(const LeaderChange& lc) {
  wire::Writer w;
  w.int16(kLeaderChangeVersion);
  w.int32(lc.leader.value());
  put_voters(w, lc.voters);
  put_voters(w, lc.granting_voters);
  w.uvarint(0);  // no tagged fields
  return w.buffer();
}

bool decode_leader_change(std::span<const uint8_t> bytes, LeaderChange* out) {
  wire::Reader r(bytes);
  LeaderChange lc;
  if (r.int16() != kLeaderChangeVersion) return false;
  lc.leader = NodeId(r.int32());
  if (!get_voters(r, &lc.voters) || !get_voters(r, &lc.granting_voters) || !get_tags_empty(r)) return false;
  if (!r.at_end()) return false;
  *out = std::move(lc);
  return true;
}

Status entry_to_batch(const Entry& e, int64_t timestamp_ms, std::vector<uint8_t>& out) {
  if (e.last < e.first) return invalid_entry(entry_name(e) + ": last before first");
  if (e.term.value() < 0) return invalid_entry(entry_name(e) + ": negative term");
  if (e.type == EntryType::kData) {
    if (!e.data) return invalid_entry(entry_name(e) + ": data entry without a batch");
    const std::vector<uint8_t>& b = *e.data;
    auto hr = record::parse_batch_header(b);
    if (hr.error != record::BatchError::kOk)
      return invalid_entry(entry_name(e) + ": not a v2 record batch (" + record::to_string(hr.error) + ")");
    if (hr.header.total_size() != b.size())
      return invalid_entry(entry_name(e) + ": payload is not exactly one batch");
    if (hr.header.last_offset_delta != e.last - e.first)
      return invalid_entry(entry_name(e) + ": lastOffsetDelta " + std::to_string(hr.header.last_offset_delta) +
                     " does not match the entry");
    std::vector<uint8_t> dummy;
    if (raft_control_type(b, hr.header, dummy))
      return invalid_entry(entry_name(e) + ": a data entry may not be a Raft control batch");
    const size_t at = out.size();
    out.insert(out.end(), b.begin(), b.end());
    std::span<uint8_t> copy(out.data() + at, b.size());
    // Neither field is under the CRC (batch_header.h): no CRC update needed.
    record::set_base_offset(copy, e.first.value());
    record::set_partition_leader_epoch(copy, e.term.value());
    return Status::Ok();
  }
  if (e.type != EntryType::kLeaderChange && e.type != EntryType::kVoters && e.type != EntryType::kLogStart)
    return invalid_entry(entry_name(e) + ": unknown entry type " + std::to_string(static_cast<int>(e.type)));
  if (e.first != e.last) return invalid_entry(entry_name(e) + ": a control entry occupies exactly one offset");
  std::vector<uint8_t> value;
  int16_t control_type = kControlTypeLeaderChange;
  if (e.type == EntryType::kVoters) {
    Config c;
    if (!e.data || !Config::decode(*e.data, &c)) return invalid_entry(entry_name(e) + ": Voters payload is not a Config");
    value = *e.data;
    control_type = kControlTypeVoters;
  } else if (e.type == EntryType::kLogStart) {
    Offset o;
    if (!e.data || !decode_log_start(*e.data, &o))
      return invalid_entry(entry_name(e) + ": LogStart payload is not a version 0 offset");
    value = *e.data;
    control_type = kControlTypeLogStart;
  } else if (e.bytes() == 0) {
    value = encode_leader_change(LeaderChange{});
  } else {
    LeaderChange lc;
    if (!decode_leader_change(*e.data, &lc))
      return invalid_entry(entry_name(e) + ": LeaderChange payload is not a LeaderChangeMessage v0");
    value = *e.data;
  }
  record::BatchOptions o;
  o.base_offset = e.first.value();
  o.partition_leader_epoch = e.term.value();
  o.producer_id = -1;
  o.producer_epoch = -1;
  o.base_sequence = -1;
  o.transactional = false;
  o.control = true;
  wire::Writer key;
  key.int16(kControlKeyVersion);
  key.int16(control_type);
  record::BatchBuilder builder(o);
  builder.append(timestamp_ms, record::Bytes(key.buffer()), record::Bytes(value));
  std::vector<uint8_t> batch;
  if (auto st = builder.finish(batch); !st.ok()) return invalid_entry(entry_name(e) + ": " + st.detail);
  out.insert(out.end(), batch.begin(), batch.end());
  return Status::Ok();
}

Result<Entry> batch_to_entry(std::span<const uint8_t> whole_batch) {
  auto hr = record::parse_batch_header(whole_batch);
  if (hr.error != record::BatchError::kOk)
    return Status(Errc::kCorruptMessage, std::string("batch header: ") + record::to_string(hr.error));
  const record::BatchHeader& h = hr.header;
  if (whole_batch.size() < h.total_size()) return Status(Errc::kCorruptMessage, "batch shorter than its length");
  std::span<const uint8_t> batch = whole_batch.first(h.total_size());
  Entry e;
  e.first = Index(h.base_offset);
  e.last = Index(h.last_offset());
  e.term = Term(h.partition_leader_epoch);
  std::vector<uint8_t> value;
  auto type = raft_control_type(batch, h, value);
  if (!type) {
    e.type = EntryType::kData;
    e.data = std::make_shared<const std::vector<uint8_t>>(batch.begin(), batch.end());
    return e;
  }
  if (h.record_count != 1 || h.last_offset_delta != 0)
    return Status(Errc::kCorruptMessage, "Raft control batch at " + std::to_string(h.base_offset) +
                                             " holds more than one record");
  e.type = *type == kControlTypeVoters    ? EntryType::kVoters
           : *type == kControlTypeLogStart ? EntryType::kLogStart
                                           : EntryType::kLeaderChange;
  e.data = std::make_shared<const std::vector<uint8_t>>(std::move(value));
  return e;
}

bool is_raft_control_batch(std::span<const uint8_t> whole_batch) {
  auto hr = record::parse_batch_header(whole_batch);
  if (hr.error != record::BatchError::kOk || whole_batch.size() < hr.header.total_size()) return false;
  std::vector<uint8_t> value;
  return raft_control_type(whole_batch.first(hr.header.total_size()), hr.header, value).has_value();
}

}  // namespace millrace::raft
