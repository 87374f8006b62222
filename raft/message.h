// The messages Raft nodes exchange. The state machine consumes and produces
// these values; the transport (raft/rpc: generated from JSON definitions in
// Kafka's format) carries them, coalescing many groups' messages per node pair.
//
// Field use per type (unused fields stay at their defaults):
//   kPreVote / kVote            term (candidate's, for PreVote the term it would
//                               take), index/log_term = candidate's last entry,
//                               transfer = campaign forced by TimeoutNow
//   kPreVoteResponse /          term, reject
//   kVoteResponse
//   kAppend                     term, index/log_term = entry before the first
//                               one sent (prev), entries, commit
//   kAppendResponse             term, index = the follower's last matching
//                               offset (accept) or the rejected prev (reject),
//                               reject, hint_index/hint_term (reject: the
//                               follower's last entry at or below `index` whose
//                               term <= the leader's prev term; lets the leader
//                               skip a whole term per round trip), context
//                               (the bytes per append it takes for now, 0: no
//                               limit; Options::intake_limit)
//   kHeartbeat                  term, commit (already min'd with the follower's
//                               match by the leader), context
//   kHeartbeatResponse          term, context
//   kSnapshot                   term, snapshot (the leader's log start moved
//                               past what the follower needs)
//   kTimeoutNow                 term (leadership transfer: campaign now)
// A heartbeat that changes nothing is (group, from, to, term, commit): small,
// and the transport may coalesce it per node pair.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raft/types.h"

namespace millrace::raft {

enum class MessageType : uint8_t {
  kPreVote = 0,
  kPreVoteResponse = 1,
  kVote = 2,
  kVoteResponse = 3,
  kAppend = 4,
  kAppendResponse = 5,
  kHeartbeat = 6,
  kHeartbeatResponse = 7,
  kSnapshot = 8,
  kTimeoutNow = 9,
};
inline constexpr int kMessageTypeCount = 10;

const char* to_string(MessageType t);
bool is_response(MessageType t);

struct Message {
  GroupId group{0};
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  MessageType type = MessageType::kHeartbeat;
  Term term{0};
  Index index{-1};
  Term log_term{0};
  Index commit{-1};
  bool reject = false;
  Index hint_index{-1};
  Term hint_term{0};
  bool transfer = false;
  uint64_t context = 0;  // heartbeat round id (CheckQuorum, read-index later)
  std::vector<Entry> entries;
  SnapshotMeta snapshot;

  bool operator==(const Message&) const = default;
  size_t bytes() const;  // payload bytes carried (flow control, throttling)
  std::string to_string() const;  // one line, for simulator traces
};

}  // namespace millrace::raft
