#include "client/list_offsets.h"

#include <string>

#include "client/group_by_topic.h"

namespace millrace::client {

asio::awaitable<Result<std::map<TopicPartition, int64_t>>> list_offsets(Cluster& cluster,
                                                                         std::vector<TopicPartition> tps,
                                                                         int64_t spec, int8_t isolation_level) {
  std::vector<std::string> topics;
  for (auto& tp : tps) topics.push_back(tp.topic);
  auto md = co_await cluster.refresh_metadata(topics, false);
  if (!md.ok()) co_return md.error();
  std::map<int32_t, std::vector<TopicPartition>> by_leader;
  for (auto& tp : tps) {
    auto l = cluster.leader_for(tp.topic, tp.partition);
    if (!l) co_return Error{errc::kLeaderNotAvailable, "no leader for " + tp.topic + "-" + std::to_string(tp.partition)};
    by_leader[*l].push_back(tp);
  }
  std::map<TopicPartition, int64_t> out;
  for (auto& [leader, list] : by_leader) {
    proto::ListOffsetsRequest req;
    req.replica_id = -1;
    req.isolation_level = isolation_level;
    req.topics = group_by_topic<proto::ListOffsetsRequest::ListOffsetsTopic>(
        list, [spec](auto& p, const TopicPartition&) { p.timestamp = spec; });
    auto resp = co_await cluster.call(leader, req);
    if (!resp.ok()) co_return resp.error();
    for (auto& t : resp->topics)
      for (auto& p : t.partitions) {
        if (p.error_code != 0) {
          std::string m = "ListOffsets " + t.name + "-" + std::to_string(p.partition_index) + ": ";
          m.append(error_code_name(p.error_code));
          co_return Error{p.error_code, std::move(m)};
        }
        out[{t.name, p.partition_index}] = p.offset;
      }
  }
  co_return out;
}

}  // namespace millrace::client
