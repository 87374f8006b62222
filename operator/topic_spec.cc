#include "operator/topic_spec.h"

#include <set>
#include <utility>

namespace millrace::op {

std::string kafka_topic_name(const json& topic) {
  auto spec = topic.value("spec", json::object());
  auto n = spec.is_object() ? spec.value("topicName", "") : "";
  return n.empty() ? topic["metadata"].value("name", "") : n;
}

PreferredRacks parse_preferred_racks(const json& topic) {
  const std::string field = "spec.leaders.preferredRacks";
  PreferredRacks out;
  const json spec = topic.value("spec", json::object());
  if (!spec.is_object() || !spec.contains("leaders")) return out;
  const json& leaders = spec["leaders"];
  if (!leaders.is_object()) return {{}, "spec.leaders: must be an object"};
  if (!leaders.contains("preferredRacks")) return out;
  const json& racks = leaders["preferredRacks"];
  if (!racks.is_array()) return {{}, field + ": must be a list of rack names"};
  std::set<std::string> seen;
  for (size_t i = 0; i < racks.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    if (!racks[i].is_string()) return {{}, at + ": must be a string"};
    const std::string rack = racks[i].get<std::string>();
    if (rack.empty()) return {{}, at + ": must not be empty"};
    if (!seen.insert(rack).second) return {{}, at + ": \"" + rack + "\" twice"};
    out.racks.push_back(rack);
  }
  return out;
}

std::map<std::string, std::vector<std::string>> preferred_leader_racks(const std::vector<json>& topics,
                                                                       const std::string& ns,
                                                                       const std::string& cluster) {
  std::map<std::string, std::pair<std::pair<std::string, std::string>, std::vector<std::string>>> owner;
  for (const json& t : topics) {
    const json& md = t["metadata"];
    if (md.value("namespace", "") != ns) continue;
    const json spec = t.value("spec", json::object());
    if (!spec.is_object() || spec.value("clusterRef", json::object()).value("name", "") != cluster) continue;
    PreferredRacks p = parse_preferred_racks(t);
    const auto age = std::make_pair(md.value("creationTimestamp", ""), md.value("name", ""));
    const std::string name = kafka_topic_name(t);
    auto it = owner.find(name);
    if (it != owner.end() && it->second.first < age) continue;  // an older Topic owns it
    owner[name] = {age, p.error.empty() ? std::move(p.racks) : std::vector<std::string>{}};
  }
  std::map<std::string, std::vector<std::string>> out;
  for (auto& [name, o] : owner)
    if (!o.second.empty()) out[name] = std::move(o.second);
  return out;
}

}  // namespace millrace::op
