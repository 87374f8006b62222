// Control batches: transaction markers written by a partition leader when a
// transaction commits or aborts (attributes: transactional | control). Each holds
// one control record (layout in record.h):
//   key   = version int16 (0), type int16 (0 abort, 1 commit)
//   value = version int16 (0), coordinator_epoch int32
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "protocol/record/batch_header.h"
#include "protocol/record/record.h"

namespace millrace::record {

enum class ControlType : int16_t { kAbort = 0, kCommit = 1 };

struct TransactionMarker {
  ControlType type;
  int32_t coordinator_epoch;
};

// Appends a one-record control batch to `out`.
BatchStatus build_control_batch(ControlType type, int64_t producer_id, int16_t producer_epoch,
                                int32_t coordinator_epoch, int64_t timestamp, int64_t base_offset,
                                int32_t partition_leader_epoch, std::vector<uint8_t>& out);

// The control record type from a control record's key (any type value, since
// Kafka has more than abort/commit); nullopt when the key is null or short.
std::optional<int16_t> control_record_type(const Record& rec);

// Abort/commit marker from a control record; nullopt for other control types or
// a malformed key/value.
std::optional<TransactionMarker> parse_transaction_marker(const Record& rec);

}  // namespace millrace::record
