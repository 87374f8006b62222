// DescribeQuorum (key 55), v0-2: the controller quorum of the metadata log
// (cluster/controller/metadata_log.h), so `kafka-metadata-quorum.sh describe
// --status` and `--replication` work against Millrace. Every voter here is the
// leader itself until the quorum spans nodes (issue 17): its log end offset is
// the log's, its fetch times now.
#include <chrono>

#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::DescribeQuorumResponse> handle(RequestContext& ctx, proto::DescribeQuorumRequest& req) {
  auto& b = ctx.broker;
  proto::DescribeQuorumResponse resp;
  auto status = b.quorum_status ? b.quorum_status() : std::optional<cluster::QuorumStatus>{};
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
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
      for (int32_t v : status->voters) {
        auto& rv = rp.current_voters.emplace_back();
        rv.replica_id = v;
        rv.log_end_offset = status->log_end_offset;
        rv.last_fetch_timestamp = now;
        rv.last_caught_up_timestamp = now;
      }
    }
  }
  if (ctx.api_version >= 2 && status) {
    for (int32_t v : status->voters) {
      if (v != b.node_id) continue;  // the others' listeners come with the quorum's transport
      auto& n = resp.nodes.emplace_back();
      n.node_id = v;
      auto& l = n.listeners.emplace_back();
      l.name = "PLAINTEXT";
      l.host = b.advertised_host;
      l.port = static_cast<uint16_t>(b.advertised_port);
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
