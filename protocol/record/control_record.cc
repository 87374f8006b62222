#include "protocol/record/control_record.h"

#include "protocol/record/batch_builder.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::record {
namespace {
constexpr int16_t kControlKeyVersion = 0;
constexpr int16_t kMarkerValueVersion = 0;
}  // namespace

BatchStatus build_control_batch(ControlType type, int64_t producer_id, int16_t producer_epoch,
                                int32_t coordinator_epoch, int64_t timestamp, int64_t base_offset,
                                int32_t partition_leader_epoch, std::vector<uint8_t>& out) {
  BatchOptions options;
  options.base_offset = base_offset;
  options.partition_leader_epoch = partition_leader_epoch;
  options.producer_id = producer_id;
  options.producer_epoch = producer_epoch;
  options.transactional = true;
  options.control = true;
  wire::Writer key, value;
  key.int16(kControlKeyVersion);
  key.int16(static_cast<int16_t>(type));
  value.int16(kMarkerValueVersion);
  value.int32(coordinator_epoch);
  BatchBuilder builder(options);
  builder.append(timestamp, Bytes(key.buffer()), Bytes(value.buffer()));
  return builder.finish(out);
}

std::optional<int16_t> control_record_type(const Record& rec) {
  if (!rec.key || rec.key->size() < 4) return std::nullopt;
  wire::Reader r(*rec.key);
  r.int16();  // version
  return r.int16();
}

std::optional<TransactionMarker> parse_transaction_marker(const Record& rec) {
  auto type = control_record_type(rec);
  if (!type || (*type != static_cast<int16_t>(ControlType::kAbort) &&
                *type != static_cast<int16_t>(ControlType::kCommit)))
    return std::nullopt;
  if (!rec.value || rec.value->size() < 6) return std::nullopt;
  wire::Reader r(*rec.value);
  r.int16();  // version
  return TransactionMarker{static_cast<ControlType>(*type), r.int32()};
}

}  // namespace millrace::record
