#include "cluster/topics/partition_host.h"

namespace millrace::cluster {

storage::Status LogManagerPartitionHost::create(const storage::TopicPartition& tp,
                                                const std::map<std::string, std::string>& configs) {
  auto r = logs_.create(tp, configs);
  return r.ok() ? storage::Status::Ok() : r.status();
}

storage::Status LogManagerPartitionHost::remove(const storage::TopicPartition& tp) {
  auto s = logs_.remove(tp);
  return s.code() == storage::Errc::kNotFound ? storage::Status::Ok() : s;
}

storage::Status LogManagerPartitionHost::set_configs(const std::string& topic,
                                                     const std::map<std::string, std::string>& configs) {
  return logs_.set_topic_config(topic, configs);
}

storage::Status LogManagerPartitionHost::mark_offline(const storage::TopicPartition& tp, const storage::Status& why) {
  return logs_.add_offline(tp, why);
}

std::vector<storage::TopicPartition> LogManagerPartitionHost::partitions() const {
  std::vector<storage::TopicPartition> out;
  for (const auto& p : logs_.partitions()) out.push_back(p.tp);
  return out;
}

bool LogManagerPartitionHost::has(const storage::TopicPartition& tp) const { return logs_.get(tp) != nullptr; }

}  // namespace millrace::cluster
