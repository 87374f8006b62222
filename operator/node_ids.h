// Broker node ids, allocated and recorded by the operator, independent of pod
// ordinals (a StatefulSet's ordinal says where a pod sits, not which node it is).
//
// The record is the ConfigMap <millrace>-node-ids, owned by the Millrace:
//   data[<pod name>]                     the node id (decimal) of that pod's broker
//   annotations[millrace.io/next-node-id] the lowest id never handed out
// Each pod mounts it at kNodeIdsMountPath and the broker reads its own key
// (--set-from-file node.id=<mount>/<pod name>), so the id a broker runs with is
// the recorded one. Ids are allocated before the StatefulSet grows to include a
// pod, are never changed and never reused: an entry stays when its pod is
// scaled away, because the pod's retained volume (whenScaled: Retain) holds that
// node's meta.properties and a scale-up finds both again. A wiped volume keeps
// the pod's node id and is told apart by its new directory id, as in Kafka
// (KIP-853: a voter is node id + directory id; cluster/identity/).
//
// Pure functions; the reconciler reads and applies the ConfigMap.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace millrace::op {

using json = nlohmann::json;

inline constexpr const char* kNextNodeIdAnnotation = "millrace.io/next-node-id";
inline constexpr const char* kNodeIdsMountPath = "/var/run/millrace/node-ids";
// The controller quorum's voters, node ids in the order chosen ("0,1,2"):
// chosen once, with the first ids, and never changed by the operator (a static
// quorum; changing voters is KIP-853's AddRaftVoter/RemoveRaftVoter, not driven
// by the operator yet).
inline constexpr const char* kControllerVotersAnnotation = "millrace.io/controller-voters";
// How many voters a new cluster gets: 3 when it starts with 3 brokers or more
// (one may fail), else 1 (2 voters would stop on either failure: no better than 1).
inline constexpr int kControllerVoters = 3;

struct NodeIds {
  std::map<std::string, int32_t> by_pod;
  int64_t next = 0;  // > every id in by_pod
  std::vector<int32_t> voters;  // the controller quorum (node ids, each in by_pod); empty: not chosen yet

  std::optional<int32_t> of(const std::string& pod) const {
    auto it = by_pod.find(pod);
    if (it == by_pod.end()) return std::nullopt;
    return it->second;
  }
  bool is_voter(int32_t id) const;
  // The pod whose node id is `id`, "" when none.
  std::string pod_of(int32_t id) const;
  bool operator==(const NodeIds&) const = default;
};

// What a ConfigMap says; `error` (naming the ConfigMap and the field) when it
// cannot be trusted: a value that is not an id, two pods with one id, a
// malformed next-id annotation. No ConfigMap (nullptr) is an empty record.
struct NodeIdsRead {
  NodeIds ids;
  std::string error;
};
NodeIdsRead read_node_ids(const json* config_map, const std::string& config_map_name);

// Gives each pod of `pods` that has no id the next one, in the order given.
// Never changes or reuses an id. `error` when the id space (int32) is spent.
struct NodeIdsAllocation {
  NodeIds ids;
  std::string error;
};
NodeIdsAllocation allocate_node_ids(NodeIds ids, const std::vector<std::string>& pods);

// Chooses the controller voters when none are recorded: the ids of the first
// `spec_brokers >= kControllerVoters ? kControllerVoters : 1` pods of `pods`
// (ordinal order), which must have ids. A record with voters is returned as it is.
NodeIds choose_voters(NodeIds ids, const std::vector<std::string>& pods, int spec_brokers);

// The fewest pods (lowest ordinals) that keep every voter: 1 + the highest
// ordinal of a voter's pod ("<millrace>-<ordinal>"); 0 without voters.
int pods_holding_voters(const NodeIds& ids, const std::string& millrace);

}  // namespace millrace::op
