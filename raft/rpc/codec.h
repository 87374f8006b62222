// The wire form of Raft's messages between two nodes: raft::Message values to
// and from the generated RaftBatchRequest (raft/rpc/spec, tools/protocol-gen).
//
// Who calls it: the inter-node transport. It groups the messages the Raft
// groups of one node hand it by destination node, encodes one batch per
// destination per flush (encode_batch), frames it with a Kafka request header
// (api key RaftBatchRequest::kApiKey, version kBatchVersion) and, on the
// receiving node, decodes it (decode_batch) and steps each message into its
// group. Pure functions: no I/O, no state, safe from any thread.
//
// Layout (one batch = every message from one node to another, all groups):
//   SourceNodeId, DestinationNodeId        every message's from / to
//   Heartbeats[]          (GroupId, Term, Commit, Context)   29 bytes each
//   HeartbeatResponses[]  (GroupId, Term, Context)           21 bytes each
//   Messages[]            any other raft::Message, whole (entries, snapshot)
// A heartbeat or heartbeat response "changes nothing" when every field the
// compact form lacks has its default (is_compact_heartbeat*); those take the
// compact arrays, everything else Messages.
//
// Order: decode_batch returns the compact heartbeats, then the compact
// heartbeat responses, then the rest, each class in the order it was sent
// (Raft tolerates reordering; within a class, and so within a group's
// appends, order is kept). encode_batch of a decoded batch therefore decodes
// to an equal batch, and encoding is a fixed point after one decode.
//
// Bad input: decode_batch never throws or crashes and allocates at most a
// constant times the input size; every rejection names the field, e.g.
// "Messages[2].Entries[0].Last: 4 is below First 9".
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "raft/message.h"
#include "raft/rpc/generated/raft_batch_request.h"

namespace millrace::raft::rpc {

inline constexpr int16_t kBatchVersion = RaftBatchRequest::kHighestVersion;

// A heartbeat whose only non-default fields are group, term, commit, context
// (from/to are the batch's).
bool is_compact_heartbeat(const Message& m);
// A heartbeat response whose only non-default fields are group, term, context.
bool is_compact_heartbeat_response(const Message& m);

// The RaftBatchRequest body (version kBatchVersion) carrying `messages` from
// node `from` to node `to`. The batch's from/to are every message's: a
// message's own from/to fields are not sent (the transport groups by them).
// `poll`: the sender (an observer) also asks for the messages `to` holds for
// it; an empty poll may go to kNoNode (-1), "whoever answers" (an address from
// controller.quorum.bootstrap.servers whose id is not known yet).
std::vector<uint8_t> encode_batch(NodeId from, NodeId to, const std::vector<Message>& messages, bool poll = false);

// The same body with the Data of entries that name a file range (Entry::file,
// a leader's log read for catch-up) left out: `bytes` holds everything else,
// and each splice says where in `bytes` its file range goes (in order). The
// transport writes the pieces with sendfile; the receiver sees one body, the
// bytes encode_batch would give (such entries are marked Stamped: the
// receiver checks the batch it got is the entry's). Messages without file
// entries are encoded as by encode_batch.
struct GatheredBatch {
  struct Splice {
    size_t at;                              // position in `bytes`
    std::shared_ptr<const FileSpan> file;   // what goes there
  };
  std::vector<uint8_t> bytes;
  std::vector<Splice> splices;
  size_t size() const;  // the whole body's bytes
};
GatheredBatch encode_batch_gathered(NodeId from, NodeId to, const std::vector<Message>& messages);
// The whole body (the files read): what encode_batch gives. Tests.
std::vector<uint8_t> materialize(const GatheredBatch& g);

struct DecodedBatch {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  std::vector<Message> messages;  // from/to set to the batch's
  bool poll = false;
  std::string error;              // empty when the batch is good

  bool ok() const { return error.empty(); }
};

// Decodes a whole RaftBatchRequest body (every byte must be used) and checks
// it: node ids, message and entry types, entry offsets (first <= last, each
// entry after the previous), non-negative terms, snapshot node lists sorted,
// duplicate-free and no node both voter and learner. On error `messages` is
// empty.
DecodedBatch decode_batch(std::span<const uint8_t> bytes);
// The same, and the batch must come from `expect_from` and be addressed to
// `expect_to` (what the connection it arrived on says).
DecodedBatch decode_batch(std::span<const uint8_t> bytes, NodeId expect_from, NodeId expect_to);

}  // namespace millrace::raft::rpc
