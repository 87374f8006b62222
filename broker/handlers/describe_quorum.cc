// DescribeQuorum (key 55), v0-2: the controller quorum of the metadata log
// (cluster/controller/metadata_log.h), so `kafka-metadata-quorum.sh describe
// --status` and `--replication` work against Millrace. Served by the active
// controller (other nodes forward it there, kafka/dispatcher.cc): each voter's
// log end offset is the leader's view of it; a voter that answered within the
// last election timeout shows now as its fetch and caught-up time. Nodes (v2)
// are the voters with their controller listeners, and each replica its
// directory id where the quorum knows it (a dynamic quorum's registrations).
#include <type_traits>
#include <chrono>

#include "broker/controller/controller_quorum.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::DescribeQuorumResponse> handle(RequestContext& ctx, proto::DescribeQuorumRequest& req) {
  auto& b = ctx.broker;
  proto::DescribeQuorumResponse resp;
  auto status = b.quorum_status ? b.quorum_status() : std::optional<cluster::QuorumStatus>{};
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::vector<ControllerNode> nodes;
  if (b.quorum) nodes = b.quorum->controller_nodes();
  auto node_of = [&nodes](int32_t id) -> const ControllerNode* {
    for (const auto& n : nodes)
      if (n.id == id) return &n;
    return nullptr;
  };
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.topic_name = t.topic_name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      if (t.topic_name != cluster::kMetadataTopic || p.partition_index != 0) {
        rp.error_code = ctx.note(proto::ErrorCode::kUnknownTopicOrPartition);
        rp.error_message = "the only quorum is " + std::string(cluster::kMetadataTopic) + "-0";
        continue;
      }
      if (!status || status->leader_id < 0) {
        rp.error_code = ctx.note(proto::ErrorCode::kNotLeaderOrFollower);
        rp.error_message = "the metadata quorum has no leader";
        continue;
      }
      rp.leader_id = status->leader_id;
      rp.leader_epoch = status->leader_epoch;
      rp.high_watermark = status->high_watermark;
      // The leader's view of each voter, and of each observer (a broker-only
      // node following the log as a Raft learner).
      auto replica = [&](int32_t id) {
        std::decay_t<decltype(rp.current_voters)>::value_type r;
        r.replica_id = id;
        if (const auto* n = node_of(id)) r.replica_directory_id.bytes = n->directory_id;
        auto end = status->voter_log_end.find(id);
        r.log_end_offset = end != status->voter_log_end.end() ? end->second : -1;
        auto active = status->voter_active.find(id);
        bool recent = active != status->voter_active.end() && active->second;
        r.last_fetch_timestamp = recent ? now : -1;
        r.last_caught_up_timestamp = recent && r.log_end_offset >= status->high_watermark ? now : -1;
        return r;
      };
      for (int32_t v : status->voters) rp.current_voters.push_back(replica(v));
      for (int32_t o : status->observers) rp.observers.push_back(replica(o));
    }
  }
  if (ctx.api_version >= 2 && status && b.quorum) {
    // The voters where this node knows how they are reached.
    for (int32_t v : status->voters) {
      const auto* n = node_of(v);
      if (!n || n->endpoints.empty()) {
        if (v != b.node_id) continue;
        // This node without a controller listener (`make run`): reached on its own.
        auto& self = resp.nodes.emplace_back();
        self.node_id = v;
        self.listeners.push_back({"PLAINTEXT", b.advertised_host, static_cast<uint16_t>(b.advertised_port)});
        continue;
      }
      auto& out = resp.nodes.emplace_back();
      out.node_id = v;
      for (const auto& e : n->endpoints) {
        auto& l = out.listeners.emplace_back();
        l.name = e.name;
        l.host = e.host;
        l.port = e.port;
      }
    }
  } else if (ctx.api_version >= 2 && status) {
    for (const auto& v : b.quorum_voters) {
      auto& n = resp.nodes.emplace_back();
      n.node_id = v.id;
      auto& l = n.listeners.emplace_back();
      l.name = v.host.empty() ? "PLAINTEXT" : v.listener;
      l.host = v.host.empty() ? b.advertised_host : v.host;
      l.port = static_cast<uint16_t>(v.host.empty() ? b.advertised_port : v.port);
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
