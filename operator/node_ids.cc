#include "operator/node_ids.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace millrace::op {
namespace {

constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();

// A plain decimal in [0, 2^31-1]; nullopt for anything else (signs, spaces, hex).
std::optional<int64_t> parse_id(const std::string& s) {
  if (s.empty() || s.size() > 10 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v > kMaxId) return std::nullopt;
  return v;
}

}  // namespace

NodeIdsRead read_node_ids(const json* config_map, const std::string& name) {
  NodeIdsRead out;
  if (!config_map || !config_map->is_object()) return out;
  const std::string where = "ConfigMap " + name + ": ";
  const auto data = config_map->value("data", json::object());
  if (!data.is_object()) {
    out.error = where + "data is not a map of pod name to node id";
    return out;
  }
  std::map<int32_t, std::string> owner;
  int64_t next = 0;
  for (const auto& [pod, v] : data.items()) {
    auto id = v.is_string() ? parse_id(v.get<std::string>()) : std::nullopt;
    if (!id) {
      out.error = where + "data[" + pod + "] = " + v.dump() + " is not a node id (a whole number 0.." +
                  std::to_string(kMaxId) + ")";
      return out;
    }
    auto [it, fresh] = owner.emplace(static_cast<int32_t>(*id), pod);
    if (!fresh) {
      out.error = where + "pods " + it->second + " and " + pod + " both have node id " + std::to_string(*id);
      return out;
    }
    out.ids.by_pod[pod] = static_cast<int32_t>(*id);
    next = std::max(next, *id + 1);
  }
  const auto annotations = config_map->value("metadata", json::object()).value("annotations", json::object());
  if (annotations.is_object() && annotations.contains(kNextNodeIdAnnotation)) {
    const auto& v = annotations[kNextNodeIdAnnotation];
    auto recorded = v.is_string() ? parse_id(v.get<std::string>()) : std::nullopt;
    // kMaxId + 1 is a valid "next": every id has been handed out.
    if (!recorded && v.is_string() && v.get<std::string>() == std::to_string(kMaxId + 1)) recorded = kMaxId + 1;
    if (!recorded) {
      out.error = where + "annotation " + kNextNodeIdAnnotation + " = " + v.dump() + " is not a node id";
      return out;
    }
    // Never below an id in use (a hand edit must not make the next one collide).
    next = std::max(next, *recorded);
  }
  out.ids.next = next;
  if (annotations.is_object() && annotations.contains(kControllerVotersAnnotation)) {
    const auto& v = annotations[kControllerVotersAnnotation];
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    std::string bad;
    std::vector<int32_t> voters;
    size_t start = 0;
    while (bad.empty() && start <= text.size()) {
      auto comma = text.find(',', start);
      auto item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto id = parse_id(item);
      if (!id) bad = "\"" + item + "\" is not a node id";
      else if (!owner.count(static_cast<int32_t>(*id))) bad = "node id " + item + " is no pod's";
      else if (std::find(voters.begin(), voters.end(), static_cast<int32_t>(*id)) != voters.end())
        bad = "node id " + item + " is named twice";
      else voters.push_back(static_cast<int32_t>(*id));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (!v.is_string() || text.empty()) bad = "not a list of node ids";
    if (!bad.empty()) {
      out.error = where + "annotation " + kControllerVotersAnnotation + " = " + v.dump() + ": " + bad;
      return out;
    }
    out.ids.voters = std::move(voters);
  }
  return out;
}

bool NodeIds::is_voter(int32_t id) const { return std::find(voters.begin(), voters.end(), id) != voters.end(); }

std::string NodeIds::pod_of(int32_t id) const {
  for (const auto& [pod, i] : by_pod)
    if (i == id) return pod;
  return "";
}

NodeIds choose_voters(NodeIds ids, const std::vector<std::string>& pods, int spec_brokers) {
  if (!ids.voters.empty()) return ids;
  size_t k = spec_brokers >= kControllerVoters ? kControllerVoters : 1;
  for (size_t i = 0; i < pods.size() && ids.voters.size() < k; ++i)
    if (auto id = ids.of(pods[i])) ids.voters.push_back(*id);
  return ids;
}

int pods_holding_voters(const NodeIds& ids, const std::string& millrace) {
  int n = 0;
  for (auto id : ids.voters) {
    auto pod = ids.pod_of(id);
    auto prefix = millrace + "-";
    if (pod.rfind(prefix, 0) != 0) continue;
    auto ordinal = parse_id(pod.substr(prefix.size()));
    if (ordinal) n = std::max<int>(n, static_cast<int>(*ordinal) + 1);
  }
  return n;
}

NodeIdsAllocation allocate_node_ids(NodeIds ids, const std::vector<std::string>& pods) {
  NodeIdsAllocation out;
  for (const auto& pod : pods) {
    if (ids.by_pod.count(pod)) continue;
    if (ids.next > kMaxId) {
      out.error = "no node id left for pod " + pod + ": all " + std::to_string(kMaxId + 1) + " have been handed out";
      break;
    }
    ids.by_pod[pod] = static_cast<int32_t>(ids.next++);
  }
  out.ids = std::move(ids);
  return out;
}

}  // namespace millrace::op
