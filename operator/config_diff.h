// Topic config diffing: what IncrementalAlterConfigs must SET and DELETE so the
// topic's explicitly set (dynamic) configs equal the Topic's spec.config.
// Keys the broker reports from defaults are not "set" and are left alone.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace millrace::op {

struct ConfigOp {
  enum class Kind { kSet, kDelete };
  Kind kind;
  std::string key;
  std::string value;  // kSet only
  bool operator==(const ConfigOp&) const = default;
};

// desired: spec.config. dynamic: the topic's configs whose source is the topic
// itself (DescribeConfigs source DYNAMIC_TOPIC_CONFIG). Ops are sorted by key.
std::vector<ConfigOp> diff_topic_config(const std::map<std::string, std::string>& desired,
                                        const std::map<std::string, std::string>& dynamic);

}  // namespace millrace::op
