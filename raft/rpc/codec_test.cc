// raft/rpc/codec: raft::Message <-> RaftBatchRequest bytes.
#include "raft/rpc/codec.h"

#include <gtest/gtest.h>

#include <memory>

#include "protocol/wire/writer.h"

namespace millrace::raft::rpc {
namespace {

const NodeId kFrom{1};
const NodeId kTo{2};

Payload bytes_of(std::initializer_list<uint8_t> b) { return std::make_shared<const std::vector<uint8_t>>(b); }

Message base(MessageType t) {
  Message m;
  m.group = GroupId(7000000001LL);
  m.from = kFrom;
  m.to = kTo;
  m.type = t;
  m.term = Term(5);
  return m;
}

// One message of every type, each using the fields message.h gives it.
std::vector<Message> one_of_each() {
  std::vector<Message> out;
  for (int t = 0; t < kMessageTypeCount; ++t) {
    Message m = base(static_cast<MessageType>(t));
    switch (m.type) {
      case MessageType::kPreVote:
      case MessageType::kVote:
        m.index = Index(41);
        m.log_term = Term(4);
        m.transfer = true;
        break;
      case MessageType::kPreVoteResponse:
      case MessageType::kVoteResponse:
        m.reject = true;
        break;
      case MessageType::kAppend:
        m.index = Index(9);
        m.log_term = Term(3);
        m.commit = Index(8);
        m.entries.push_back({Index(10), Index(14), Term(5), EntryType::kData, bytes_of({1, 2, 3, 0, 255})});
        m.entries.push_back({Index(15), Index(15), Term(5), EntryType::kLeaderChange, nullptr});
        m.entries.push_back({Index(16), Index(16), Term(5), EntryType::kVoters,
                             std::make_shared<const std::vector<uint8_t>>(Config{{NodeId(1), NodeId(2)}, {}, {NodeId(4)}}.encode())});
        m.entries.push_back({Index(17), Index(17), Term(5), EntryType::kLogStart,
                             bytes_of({0, 0, 0, 0, 0, 0, 0, 0, 0, 12})});  // DeleteRecords before 12
        break;
      case MessageType::kAppendResponse:
        m.index = Index(9);
        m.reject = true;
        m.hint_index = Index(6);
        m.hint_term = Term(2);
        break;
      case MessageType::kHeartbeat:
        m.commit = Index(12);
        m.context = 0xfedcba9876543210ULL;  // above INT64_MAX: travels as int64
        m.log_term = Term(1);               // not a no-change heartbeat
        break;
      case MessageType::kHeartbeatResponse:
        m.context = 3;
        m.reject = true;                    // not a no-change response
        break;
      case MessageType::kSnapshot:
        m.snapshot.index = Index(99);
        m.snapshot.term = Term(4);
        m.snapshot.config.voters = {NodeId(1), NodeId(3)};
        m.snapshot.config.outgoing = {NodeId(1), NodeId(2)};
        m.snapshot.config.learners = {NodeId(5)};
        break;
      case MessageType::kTimeoutNow:
        break;
    }
    out.push_back(std::move(m));
  }
  return out;
}

Message no_change_heartbeat() {
  Message m = base(MessageType::kHeartbeat);
  m.commit = Index(1234567);
  m.context = 77;
  return m;
}

Message no_change_heartbeat_response() {
  Message m = base(MessageType::kHeartbeatResponse);
  m.context = 77;
  return m;
}

TEST(RaftRpcCodec, EveryMessageTypeRoundTripsAlone) {
  for (const Message& m : one_of_each()) {
    SCOPED_TRACE(m.to_string());
    DecodedBatch d = decode_batch(encode_batch(kFrom, kTo, {m}));
    ASSERT_TRUE(d.ok()) << d.error;
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_TRUE(d.messages[0] == m) << d.messages[0].to_string();
  }
}

TEST(RaftRpcCodec, AllTypesInOneBatchRoundTripInOrder) {
  std::vector<Message> all = one_of_each();
  DecodedBatch d = decode_batch(encode_batch(kFrom, kTo, all), kFrom, kTo);
  ASSERT_TRUE(d.ok()) << d.error;
  EXPECT_EQ(d.from, kFrom);
  EXPECT_EQ(d.to, kTo);
  ASSERT_EQ(d.messages.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_TRUE(d.messages[i] == all[i]) << i;
}

TEST(RaftRpcCodec, APollIsMarkedAndAnEmptyPollIsABatch) {
  DecodedBatch d = decode_batch(encode_batch(kFrom, kTo, {}, /*poll=*/true), kFrom, kTo);
  ASSERT_TRUE(d.ok()) << d.error;
  EXPECT_TRUE(d.poll);
  EXPECT_TRUE(d.messages.empty());
  d = decode_batch(encode_batch(kFrom, kTo, one_of_each()));
  ASSERT_TRUE(d.ok()) << d.error;
  EXPECT_FALSE(d.poll);
  // The flag is a tagged field: a batch without it is byte for byte what it was.
  EXPECT_EQ(encode_batch(kFrom, kTo, one_of_each()), encode_batch(kFrom, kTo, one_of_each(), false));
  EXPECT_EQ(encode_batch(kFrom, kTo, {}, true).size(), encode_batch(kFrom, kTo, {}).size() + 3);
  // An empty poll may go to "whoever answers" (-1); nothing else may.
  d = decode_batch(encode_batch(kFrom, kNoNode, {}, true));
  EXPECT_TRUE(d.ok()) << d.error;
  EXPECT_EQ(d.to, kNoNode);
  EXPECT_FALSE(decode_batch(encode_batch(kFrom, kNoNode, {})).ok());
  EXPECT_FALSE(decode_batch(encode_batch(kFrom, kNoNode, {base(MessageType::kAppendResponse)}, true)).ok());
}
TEST(RaftRpcCodec, PayloadBytesSurviveAndEmptyPayloadEqualsNull) {
  Message m = base(MessageType::kAppend);
  m.entries.push_back({Index(0), Index(0), Term(1), EntryType::kData, std::make_shared<const std::vector<uint8_t>>()});
  m.entries.push_back({Index(1), Index(999), Term(1), EntryType::kData,
                       std::make_shared<const std::vector<uint8_t>>(std::vector<uint8_t>(70000, 0xab))});
  DecodedBatch d = decode_batch(encode_batch(kFrom, kTo, {m}));
  ASSERT_TRUE(d.ok()) << d.error;
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_TRUE(d.messages[0] == m);
  EXPECT_EQ(d.messages[0].entries[1].bytes(), 70000u);
}

TEST(RaftRpcCodec, NoChangeHeartbeatTakesTheCompactPath) {
  Message hb = no_change_heartbeat();
  ASSERT_TRUE(is_compact_heartbeat(hb));
  std::vector<uint8_t> compact = encode_batch(kFrom, kTo, {hb});
  // 8 bytes of node ids, 3 array lengths, 1 tag count; 29 bytes per beat.
  EXPECT_EQ(compact.size(), 12u + 29u);
  Message busy = hb;
  busy.index = Index(3);
  ASSERT_FALSE(is_compact_heartbeat(busy));
  EXPECT_GT(encode_batch(kFrom, kTo, {busy}).size(), compact.size() + 30);
  // 1000 groups' heartbeats to one node: 29 bytes each.
  std::vector<Message> many(1000, hb);
  EXPECT_EQ(encode_batch(kFrom, kTo, many).size(), 12u + 1u + 29u * 1000u);
  DecodedBatch d = decode_batch(encode_batch(kFrom, kTo, {hb}));
  ASSERT_TRUE(d.ok()) << d.error;
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_TRUE(d.messages[0] == hb);
}

TEST(RaftRpcCodec, NoChangeHeartbeatResponseTakesTheCompactPath) {
  Message r = no_change_heartbeat_response();
  ASSERT_TRUE(is_compact_heartbeat_response(r));
  std::vector<uint8_t> bytes = encode_batch(kFrom, kTo, {r});
  EXPECT_EQ(bytes.size(), 12u + 21u);
  DecodedBatch d = decode_batch(bytes);
  ASSERT_TRUE(d.ok()) << d.error;
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_TRUE(d.messages[0] == r);
}

TEST(RaftRpcCodec, DecodedOrderIsCompactHeartbeatsThenResponsesThenTheRest) {
  Message vote = one_of_each()[2];
  std::vector<Message> sent = {vote, no_change_heartbeat_response(), no_change_heartbeat()};
  DecodedBatch d = decode_batch(encode_batch(kFrom, kTo, sent));
  ASSERT_TRUE(d.ok()) << d.error;
  ASSERT_EQ(d.messages.size(), 3u);
  EXPECT_TRUE(d.messages[0] == sent[2]);
  EXPECT_TRUE(d.messages[1] == sent[1]);
  EXPECT_TRUE(d.messages[2] == sent[0]);
}

// ---------------------------------------------------------------- bad input
// Each builds a wire batch with one thing wrong and expects the named error.

RaftBatchRequest good_wire() {
  RaftBatchRequest b;
  std::vector<uint8_t> bytes = encode_batch(kFrom, kTo, one_of_each());
  wire::Reader r(bytes);
  EXPECT_TRUE(b.decode(r, kBatchVersion));
  return b;
}

RaftBatchRequest::RaftMessage& wire_of(RaftBatchRequest& b, MessageType t) {
  for (auto& m : b.messages) {
    if (m.type == static_cast<int8_t>(t)) return m;
  }
  ADD_FAILURE() << "no message of type " << to_string(t);
  return b.messages.front();
}

std::string error_of(const RaftBatchRequest& b) {
  wire::Writer w;
  b.encode(w, kBatchVersion);
  DecodedBatch d = decode_batch(w.buffer());
  EXPECT_FALSE(d.ok());
  EXPECT_TRUE(d.messages.empty());
  return d.error;
}

TEST(RaftRpcCodecBad, GoodWireBatchDecodes) {
  wire::Writer w;
  good_wire().encode(w, kBatchVersion);
  EXPECT_TRUE(decode_batch(w.buffer()).ok());
}

TEST(RaftRpcCodecBad, UnknownMessageType) {
  RaftBatchRequest b = good_wire();
  b.messages[1].type = 12;
  EXPECT_EQ(error_of(b), "Messages[1].Type: unknown message type 12");
}

TEST(RaftRpcCodecBad, NegativeMessageType) {
  RaftBatchRequest b = good_wire();
  b.messages[0].type = -1;
  EXPECT_EQ(error_of(b), "Messages[0].Type: unknown message type -1");
}

TEST(RaftRpcCodecBad, UnknownEntryType) {
  RaftBatchRequest b = good_wire();
  wire_of(b, MessageType::kAppend).entries[1].type = 3;
  EXPECT_EQ(error_of(b), "Messages[4].Entries[1].Type: unknown entry type 3");
}

TEST(RaftRpcCodecBad, EntryLastBelowFirst) {
  RaftBatchRequest b = good_wire();
  wire_of(b, MessageType::kAppend).entries[0].last = 9;
  EXPECT_EQ(error_of(b), "Messages[4].Entries[0].Last: 9 is below First 10");
}

TEST(RaftRpcCodecBad, EntriesOverlap) {
  RaftBatchRequest b = good_wire();
  wire_of(b, MessageType::kAppend).entries[1].first = 14;
  EXPECT_EQ(error_of(b), "Messages[4].Entries[1].First: 14 does not follow the previous entry's Last 14");
}

TEST(RaftRpcCodecBad, NegativeEntryOffset) {
  RaftBatchRequest b = good_wire();
  wire_of(b, MessageType::kAppend).entries[0].first = -2;
  EXPECT_EQ(error_of(b), "Messages[4].Entries[0].First: -2 is negative");
}

TEST(RaftRpcCodecBad, NegativeTerm) {
  RaftBatchRequest b = good_wire();
  b.messages[3].term = -1;
  EXPECT_EQ(error_of(b), "Messages[3].Term: -1 is negative");
}

TEST(RaftRpcCodecBad, NegativeHeartbeatTerm) {
  RaftBatchRequest b = good_wire();
  b.heartbeats.push_back({1, -4, 0, 0, {}});
  EXPECT_EQ(error_of(b), "Heartbeats[0].Term: -4 is negative");
}

TEST(RaftRpcCodecBad, SnapshotVotersUnsorted) {
  RaftBatchRequest b = good_wire();
  wire_of(b, MessageType::kSnapshot).snapshot.voters = {3, 1};
  EXPECT_EQ(error_of(b), "Messages[8].Snapshot.Voters: node 1 is out of order (must be sorted)");
}

TEST(RaftRpcCodecBad, SnapshotOutgoingDuplicated) {
  RaftBatchRequest b = good_wire();
  wire_of(b, MessageType::kSnapshot).snapshot.outgoing = {1, 2, 2};
  EXPECT_EQ(error_of(b), "Messages[8].Snapshot.Outgoing: node 2 is listed twice");
}

TEST(RaftRpcCodecBad, SnapshotLearnerNegative) {
  RaftBatchRequest b = good_wire();
  wire_of(b, MessageType::kSnapshot).snapshot.learners = {-1};
  EXPECT_EQ(error_of(b), "Messages[8].Snapshot.Learners: node -1 is not a node id");
}

TEST(RaftRpcCodecBad, SnapshotNodeBothVoterAndLearner) {
  RaftBatchRequest b = good_wire();
  wire_of(b, MessageType::kSnapshot).snapshot.learners = {2};  // an outgoing voter
  EXPECT_EQ(error_of(b), "Messages[8].Snapshot.Learners: node 2 is also a voter");
}

TEST(RaftRpcCodecBad, SnapshotIndexBelowMinusOne) {
  RaftBatchRequest b = good_wire();
  wire_of(b, MessageType::kSnapshot).snapshot.index = -2;
  EXPECT_EQ(error_of(b), "Messages[8].Snapshot.Index: -2 is below -1");
}

TEST(RaftRpcCodecBad, NegativeSourceNode) {
  RaftBatchRequest b = good_wire();
  b.source_node_id = -1;
  EXPECT_EQ(error_of(b), "SourceNodeId: -1 is not a node id");
}

TEST(RaftRpcCodecBad, SourceIsDestination) {
  RaftBatchRequest b = good_wire();
  b.destination_node_id = b.source_node_id;
  EXPECT_EQ(error_of(b), "DestinationNodeId: 1 is also the source");
}

TEST(RaftRpcCodecBad, FromMismatch) {
  DecodedBatch d = decode_batch(encode_batch(kFrom, kTo, one_of_each()), NodeId(3), kTo);
  EXPECT_EQ(d.error, "SourceNodeId: batch from node 1 arrived on the connection of node 3");
  EXPECT_TRUE(d.messages.empty());
}

TEST(RaftRpcCodecBad, ToMismatch) {
  DecodedBatch d = decode_batch(encode_batch(kFrom, kTo, one_of_each()), kFrom, NodeId(4));
  EXPECT_EQ(d.error, "DestinationNodeId: batch for node 2 arrived at node 4");
}

TEST(RaftRpcCodecBad, EveryTruncationIsRejected) {
  std::vector<uint8_t> bytes = encode_batch(kFrom, kTo, one_of_each());
  for (size_t n = 0; n < bytes.size(); ++n) {
    DecodedBatch d = decode_batch(std::span<const uint8_t>(bytes.data(), n));
    ASSERT_FALSE(d.ok()) << n;
    EXPECT_EQ(d.error.rfind("RaftBatchRequest: truncated or malformed", 0), 0u) << d.error;
  }
}

TEST(RaftRpcCodecBad, TrailingBytes) {
  std::vector<uint8_t> bytes = encode_batch(kFrom, kTo, {no_change_heartbeat()});
  bytes.push_back(0);
  EXPECT_EQ(decode_batch(bytes).error, "RaftBatchRequest: 1 bytes after the end of the batch");
}

TEST(RaftRpcCodecBad, HugeArrayCountFailsWithoutAllocating) {
  // Source, destination, then a Heartbeats count of 2^32-2 with nothing behind it.
  std::vector<uint8_t> bytes = {0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f};
  DecodedBatch d = decode_batch(bytes);
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(d.error.rfind("RaftBatchRequest: truncated or malformed", 0), 0u) << d.error;
}

}  // namespace
}  // namespace millrace::raft::rpc
