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
  return out;
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
