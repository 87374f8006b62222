// The vocabulary of the consensus core: who (NodeId, GroupId), when (Term),
// where (Index), what (Entry), and the voter configuration. No I/O here.
//
// The partition log IS the Raft log (docs/architecture.md, "Consensus"):
//
//   offsets   ... 97 98 99 | 100 101 102 103 | 104 | 105 106 | 107
//   batches   [  data, e3 ] [  data, e3      ] [LC ] [ data, e4] [V ]
//                    ^ index 99                ^ index 104 (term 4)
//   Raft entry  = one record batch (data) or one control batch (LC, V)
//   entry index = the batch's LAST offset (Entry::last); Entry::first its base
//   entry term  = the batch's partitionLeaderEpoch
//   commit index = the high watermark - 1 (HW is the first uncommitted offset)
//   LC  = LeaderChange control record (type 2): a new leader's first entry,
//         the entry of its own term that lets it commit earlier ones (§5.4)
//   V   = Voters control record (type 5): a configuration change
//   LS  = LogStart control record (type 64, Millrace's): DeleteRecords, the
//         log start moved on every replica (raft/storage/partition_log.h)
// Control batches occupy offsets as transaction markers do; Kafka clients skip
// them. Offsets are contiguous: entry k+1 starts at entry k's last + 1 (a
// compacted topic may leave gaps; term_at() answers for any offset by the
// batch that covers it or the next one).
//
// Index arithmetic: "index" always means an offset. The entry before one that
// starts at `first` is the one whose last offset is first - 1 (prev_index).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/strong_types.h"

namespace millrace::raft {

using NodeId = BrokerId;  // a broker (or controller) node id
using GroupId = NamedType<int64_t, struct RaftGroupIdTag>;
using Term = LeaderEpoch;  // Kafka's partition leader epoch, int32
using Index = Offset;      // an offset in the partition log, int64

inline constexpr NodeId kNoNode{-1};

// What an entry is. The numbers of the control kinds are KRaft's control
// record types (ControlRecordType): a storage adapter writes them as the key
// of the single record of a control batch.
enum class EntryType : uint8_t {
  kData = 0,           // a record batch from a producer (or any state machine)
  kLeaderChange = 2,   // control: a new leader's first entry (no-op in Raft's words)
  kVoters = 5,         // control: a configuration (Config::encode) in the payload
  // control, Millrace's own type (far from KRaft's): the log start moves to
  // the offset in the payload (DeleteRecords replicated: every replica that
  // appends it moves its log start there, never past its own commit + 1).
  // The core carries it as it carries data; the log applies it.
  kLogStart = 64,
};

// Bytes shared between the log, the unstable buffer and every message that
// carries them: sending to four followers copies no payload.
using Payload = std::shared_ptr<const std::vector<uint8_t>>;

// A data entry's bytes left in a file (a leader's log read for catch-up: the
// transport sends them with sendfile instead of reading them into memory).
// `keep` holds the file open; the range holds exactly one record batch whose
// own base offset and partition leader epoch are the entry's first and term.
struct FileSpan {
  std::shared_ptr<const void> keep;
  int fd = -1;
  int64_t position = 0;
  int64_t length = 0;
};

struct Entry {
  Index first{0};  // first offset the entry occupies (record batch base offset)
  Index last{0};   // its Raft index: the last offset (first + record count - 1)
  Term term{0};
  EntryType type = EntryType::kData;
  Payload data;    // may be null for an empty control entry
  // Set instead of data for a data entry read from a log as a file range (see
  // FileSpan); only the log adapter makes these, only for kData.
  std::shared_ptr<const FileSpan> file;

  size_t bytes() const { return data ? data->size() : file ? static_cast<size_t>(file->length) : 0; }
  // The payload bytes, read from the file when the entry has no data in
  // memory; null if that read fails (the file shrank: a truncation).
  Payload payload() const;
  bool operator==(const Entry& o) const;  // compares payload bytes, not pointers
};

// Term and vote: what must reach the disk (synced) before any vote or append
// is answered (Ready::hard_state, HardStateFile). commit is advisory (a
// restarted node relearns it from the leader) but saves replay work.
struct HardState {
  Term term{0};
  NodeId vote = kNoNode;
  Index commit{-1};
  bool operator==(const HardState&) const = default;
};

// A voter configuration. Joint consensus: while `outgoing` is non-empty both
// `voters` (C_new) and `outgoing` (C_old) must agree for an election or a
// commit. Learners receive entries but never vote or count.
// Invariant: voters, outgoing and learners are sorted and duplicate-free; a
// node is never both a voter (of either half) and a learner.
struct Config {
  std::vector<NodeId> voters;
  std::vector<NodeId> outgoing;
  std::vector<NodeId> learners;

  bool joint() const { return !outgoing.empty(); }
  bool is_voter(NodeId n) const;   // in voters or outgoing
  bool is_learner(NodeId n) const;
  std::vector<NodeId> all() const;  // every node that receives entries, sorted
  bool operator==(const Config&) const = default;

  // The payload of an EntryType::kVoters entry. Layout (big-endian):
  //   version:u8 (=0) | n:u16 voters:i32*n | n:u16 outgoing:i32*n | n:u16 learners:i32*n
  std::vector<uint8_t> encode() const;
  // nullopt-like failure: returns false on bad bytes (never throws).
  static bool decode(const std::vector<uint8_t>& bytes, Config* out);
  std::string to_string() const;
};

// What replaces the log below its start when a follower is too far behind
// (the leader's log start moved under retention): the index/term of the last
// entry before the new start and the configuration in force there. For a
// partition there is no state to transfer beyond that: the follower restarts
// its log at `index + 1` and fetches from there (Kafka's follower does the
// same on OFFSET_OUT_OF_RANGE).
struct SnapshotMeta {
  Index index{-1};  // last offset covered (log start - 1)
  Term term{0};     // term of the entry at `index`
  Config config;
  bool operator==(const SnapshotMeta&) const = default;
};

}  // namespace millrace::raft
