#include "broker/controller/controller_request.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "protocol/wire/writer.h"

namespace millrace::broker {
namespace {

std::vector<uint8_t> frame(int16_t key, int16_t version, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  w.int16(key);
  w.int16(version);
  w.int32(7);
  w.int16(3);
  w.string("abc");
  w.uvarint(0);
  w.bytes(body);
  return out;
}

template <typename Msg>
std::vector<uint8_t> body(const Msg& m, int16_t version) {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  m.encode(w, version);
  return out;
}

TEST(ControllerRequest, EachServedApiDecodes) {
  proto::BrokerHeartbeatRequest hb;
  hb.broker_id = 2;
  hb.broker_epoch = 9;
  hb.current_metadata_offset = 40;
  auto r = parse_controller_request(frame(63, 1, body(hb, 1)));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.correlation_id, 7);
  EXPECT_EQ(std::get<proto::BrokerHeartbeatRequest>(r.body), hb);

  proto::BrokerRegistrationRequest reg;
  reg.broker_id = 3;
  reg.listeners.push_back({"PLAINTEXT", "h", 9092, 0, {}});
  r = parse_controller_request(frame(62, 2, body(reg, 2)));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(std::get<proto::BrokerRegistrationRequest>(r.body).broker_id, 3);

  proto::FetchSnapshotRequest fs;
  fs.replica_id = 2;
  auto& fp = fs.topics.emplace_back();
  fp.name = "__cluster_metadata";
  fp.partitions.emplace_back().snapshot_id.end_offset = 120;
  fp.partitions.back().position = 4096;
  r = parse_controller_request(frame(59, 1, body(fs, 1)));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(std::get<proto::FetchSnapshotRequest>(r.body), fs);
  // Write the seed the fuzz target starts from (kept in the corpus).
  if (std::getenv("MILLRACE_WRITE_SEEDS")) {
    auto f = frame(59, 1, body(fs, 1));
    std::ofstream(std::string(MILLRACE_SOURCE_DIR) + "/fuzz/corpus/controller_request_fuzz/fetch_snapshot_v1",
                  std::ios::binary)
        .write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
  }

  raft::rpc::PartitionLeadershipRequest lead;
  lead.broker_id = 2;
  lead.broker_epoch = 40;
  auto& lp = lead.partitions.emplace_back();
  lp.topic_id.bytes[15] = 1;
  lp.partition_index = 3;
  lp.leader = 2;
  lp.leader_epoch = 7;
  lp.isr = {2, 3};
  r = parse_controller_request(frame(10002, 0, body(lead, 0)));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(std::get<raft::rpc::PartitionLeadershipRequest>(r.body), lead);
  EXPECT_NE(parse_controller_request(frame(10002, 1, body(lead, 0))).error.find("version 1"), std::string::npos);
  if (std::getenv("MILLRACE_WRITE_SEEDS")) {
    auto f = frame(10002, 0, body(lead, 0));
    std::ofstream(std::string(MILLRACE_SOURCE_DIR) + "/fuzz/corpus/controller_request_fuzz/partition_leadership_v0",
                  std::ios::binary)
        .write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
  }

  raft::Message m;
  m.type = raft::MessageType::kVote;
  m.term = raft::Term(4);
  r = parse_controller_request(frame(10000, 0, raft::rpc::encode_batch(raft::NodeId(1), raft::NodeId(2), {m})));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(std::get<raft::rpc::DecodedBatch>(r.body).messages.size(), 1u);
}

TEST(ControllerRequest, AnythingElseIsRefusedSayingWhy) {
  proto::AllocateProducerIdsRequest a;
  auto good = body(a, 0);
  EXPECT_NE(parse_controller_request(frame(3, 12, {})).error.find("not served on the controller listener"),
            std::string::npos);
  EXPECT_NE(parse_controller_request(frame(67, 9, good)).error.find("version 9"), std::string::npos);
  auto extra = good;
  extra.push_back(0);
  EXPECT_NE(parse_controller_request(frame(67, 0, extra)).error.find("after the body"), std::string::npos);
  EXPECT_FALSE(parse_controller_request(std::vector<uint8_t>{0, 62, 0}).ok());
  auto cut = frame(67, 0, good);
  cut.pop_back();
  EXPECT_FALSE(parse_controller_request(cut).ok());
  // The seed corpus of the fuzz target parses (so the fuzzer starts from real requests).
  for (const char* name : {"heartbeat_v1", "allocate_v0", "forward_v0", "fetch_snapshot_v1", "partition_leadership_v0"}) {
    std::ifstream in(std::string(MILLRACE_SOURCE_DIR) + "/fuzz/corpus/controller_request_fuzz/" + name, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(parse_controller_request(bytes).ok()) << name;
  }
}

}  // namespace
}  // namespace millrace::broker
