// DescribeLogDirs (key 35), v1-4: each log dir with its partitions' sizes
// (offset lag 0: no replica fetches behind a single node) and, v4+, the
// filesystem's total and usable bytes. An offline dir (fail-stop) answers
// KAFKA_STORAGE_ERROR and no partitions, as Kafka's
// ReplicaManager.describeLogDirs does for a dir that is not online.
#include <sys/statvfs.h>

#include <map>

#include "broker/handlers/handlers.h"

namespace millrace::broker {

Task<proto::DescribeLogDirsResponse> handle(RequestContext& ctx, proto::DescribeLogDirsRequest& req) {
  auto& b = ctx.broker;
  proto::DescribeLogDirsResponse resp;
  auto wanted = [&](const std::string& topic, int32_t p) {
    if (!req.topics) return true;
    for (const auto& t : *req.topics)
      if (t.topic == topic)
        for (int32_t q : t.partitions)
          if (q == p) return true;
    return false;
  };
  std::map<std::string, std::map<std::string, std::vector<std::pair<int32_t, int64_t>>>> by_dir;
  for (const auto& d : b.logs.log_dirs()) by_dir[d.string()];
  for (const auto& p : b.logs.partitions())
    if (wanted(p.tp.topic, p.tp.partition)) by_dir[p.log_dir.string()][p.tp.topic].emplace_back(p.tp.partition, p.size_bytes);
  std::map<std::string, bool> offline;
  for (const auto& d : b.logs.log_dir_status()) offline[d.dir.string()] = d.offline;
  for (const auto& [dir, topics] : by_dir) {
    auto& r = resp.results.emplace_back();
    r.log_dir = dir;
    if (offline[dir]) {
      r.error_code = ctx.note(proto::ErrorCode::kKafkaStorageError);
      continue;
    }
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) == 0) {
      r.total_bytes = static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize);
      r.usable_bytes = static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
    }
    for (const auto& [topic, parts] : topics) {
      auto& rt = r.topics.emplace_back();
      rt.name = topic;
      for (const auto& [p, size] : parts) {
        auto& rp = rt.partitions.emplace_back();
        rp.partition_index = p;
        rp.partition_size = size;
      }
    }
  }
  co_return resp;
}

}  // namespace millrace::broker
