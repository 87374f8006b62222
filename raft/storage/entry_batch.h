// How a Raft entry is written into the partition log and read back: one entry
// is one record batch v2 (protocol/record/batch_header.h), so the partition log
// IS the Raft log and a Kafka fetch reads it as it is (raft/types.h).
//
//   offsets   ... 97 98 99 | 100 101 102 103 | 104 | 105 106 | 107
//   batches   [  data, e3 ] [  data, e3      ] [LC ] [ data, e4] [V ]
//   entry     first=97      first=100         104   105          107
//             last=99 (its Raft index)        (one offset each for LC, V)
//
//   entry field  <- batch field
//   first        <- baseOffset                  (header bytes 0..7)
//   last         <- baseOffset + lastOffsetDelta
//   term         <- partitionLeaderEpoch        (header bytes 12..15)
//   type         <- kData unless a Raft control batch (below)
//   data         <- kData: the whole batch bytes; control: the record's value
//
// baseOffset and partitionLeaderEpoch are outside the v2 CRC (the CRC covers
// bytes [21, end): attributes onwards), so the adapter stamps them into a copy
// of a producer's batch without recomputing the CRC, exactly as a Kafka leader
// does (record::set_base_offset / set_partition_leader_epoch).
//
// Raft's own entries are control batches, KRaft's layout:
//   attributes   control bit (0x20) set, transactional bit clear, no codec
//   producer id  -1, producer epoch -1, base sequence -1
//   records      exactly one; lastOffsetDelta = 0 (one offset)
//   record key   ControlRecordType: version int16 = 0, type int16
//                  2 = LeaderChange (a new leader's first entry, Raft's no-op)
//                  5 = Voters       (a configuration)
//   record value LeaderChange: KRaft's LeaderChangeMessage, version 0
//                  (flexible: Version int16, LeaderId int32, Voters and
//                  GrantingVoters as compact arrays of {VoterId int32, tags},
//                  tags). When the core hands a LeaderChange entry without a
//                  payload the adapter writes LeaderId -1 and no voters.
//                Voters: raft::Config::encode() bytes. This is MILLRACE'S OWN
//                  layout, not KRaft's VotersRecord: KRaft has no joint
//                  configurations (C_old,new), Millrace does.
//                  64 = LogStart (Millrace's own: DeleteRecords as a Raft
//                  entry; value = encode_log_start below)
// Kafka consumers skip every control batch (the control bit); transaction
// markers are control batches too but transactional with types 0/1, so they
// stay kData entries (a state machine's records, not Raft's).
// Offsets stay contiguous: every offset belongs to exactly one entry.
//
// Threading: pure functions. Errors are values (never throws, never crashes on
// bad bytes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "raft/types.h"
#include "storage/status.h"

namespace millrace::raft {

inline constexpr int16_t kControlTypeLeaderChange = 2;
inline constexpr int16_t kControlTypeVoters = 5;
inline constexpr int16_t kControlTypeLogStart = 64;  // Millrace's own (EntryType::kLogStart)

// LogStart payload (DeleteRecords replicated), big-endian:
//   version:i16 (= 0) | offset:i64 (the new log start, >= 0)
std::vector<uint8_t> encode_log_start(Offset offset);
// False on bad or trailing bytes, another version, or a negative offset.
bool decode_log_start(std::span<const uint8_t> bytes, Offset* out);

// LeaderChangeMessage v0 (KRaft).
struct LeaderChange {
  NodeId leader = kNoNode;
  std::vector<NodeId> voters;
  std::vector<NodeId> granting_voters;
  bool operator==(const LeaderChange&) const = default;
};
std::vector<uint8_t> encode_leader_change(const LeaderChange& lc);
// False on bad or trailing bytes, a version other than 0, or unknown tags.
bool decode_leader_change(std::span<const uint8_t> bytes, LeaderChange* out);

// The batch bytes for `e`, appended to `out`. kData: the payload with
// baseOffset = e.first and partitionLeaderEpoch = e.term stamped; the payload
// must be exactly one v2 batch with lastOffsetDelta = e.last - e.first and must
// not be a Raft control batch. Control: a control batch (see the top) with
// `timestamp_ms` as its record's timestamp; requires e.first == e.last.
// kInvalidArgument naming the problem otherwise (`out` is then unchanged).
storage::Status entry_to_batch(const Entry& e, int64_t timestamp_ms, std::vector<uint8_t>& out);

// The entry a whole batch (as read from the log: CRC already checked by
// storage) stands for. kCorruptMessage for a malformed Raft control batch.
storage::Result<Entry> batch_to_entry(std::span<const uint8_t> whole_batch);

// True when the batch is one of Raft's control batches (LeaderChange, Voters, LogStart).
bool is_raft_control_batch(std::span<const uint8_t> whole_batch);

}  // namespace millrace::raft
