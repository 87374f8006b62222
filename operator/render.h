// Rendering: a Millrace object (JSON as the API server stores it) to the
// objects that run it. Pure functions, no I/O: the reconciler applies what
// these return, the unit tests read it.
//
//   <name>-config     ConfigMap   broker.yaml (Kafka server.properties keys)
//   <name>-brokers    Service     headless, publishNotReadyAddresses (pod DNS)
//   <name>-bootstrap  Service     ClusterIP on the Kafka port (clients' first hop)
//   <name>            StatefulSet one pod per broker, volume claim "data"
//   <name>            PodDisruptionBudget  maxUnavailable 1
//   <name>            ServiceMonitor       when asked for and its CRD exists
//
//   <name>-node-ids   ConfigMap   pod name -> node id (node_ids.h), applied first
//   <name>-roles      ConfigMap   pod name -> process.roles ("broker,controller" for
//                                 the controller voters, else "broker")
//
// One cluster: every pod runs the same template; what differs per pod comes from
// files the pod mounts (its node id, its roles). The controller quorum is static:
// controller.quorum.voters names each voter as <id>@<pod>.<name>-brokers.<ns>.svc:
// <controllerPort>, the listener CONTROLLER on every pod (a broker-only node
// has it too; it serves nothing there).
//
// Broker identity: node.id is the id the operator allocated and recorded for the
// pod (node_ids.h), read by the broker from the node-ids ConfigMap mounted in the
// pod (--set-from-file node.id=<mount>/<pod name>), never the pod's ordinal.
// Rack: with spec.rackLabel, MILLRACE_BROKER_RACK (the broker's broker.rack) comes
// from the pod's label of that name, which Kubernetes copies from the node for
// topology.kubernetes.io/zone and /region (see render_stateful_set).
#pragma once

#include <nlohmann/json.hpp>

#include "operator/node_ids.h"

#include <map>
#include <string>
#include <vector>

namespace millrace::op {

using json = nlohmann::json;

inline constexpr const char* kAppLabel = "app.kubernetes.io/name";
inline constexpr const char* kInstanceLabel = "app.kubernetes.io/instance";
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kConfigHashAnnotation = "millrace.io/config-hash";
inline constexpr const char* kRolesMountPath = "/var/run/millrace/roles";

struct RenderOptions {
  bool service_monitor_crd = false;  // monitoring.coreos.com/v1 ServiceMonitor is served
  NodeIds node_ids;                  // the record to apply as <name>-node-ids
};

// The Millrace spec with defaults filled in (the CRD defaults them too; this
// keeps rendering total for objects stored before a default existed).
struct MillraceSpec {
  std::string name, namespace_, uid;
  int brokers = 1;
  std::string image = "millrace/millrace:latest";
  std::string storage_size = "10Gi", storage_class;
  json resources = json::object();
  std::map<std::string, std::string> config;
  int kafka_port = 9092, admin_port = 9644, controller_port = 9093;
  std::string rack_label;
  bool metrics = true, service_monitor = false;
  // spec.rebalanceOnScale: make add-/remove-brokers Rebalances when spec.brokers changes.
  bool rebalance_on_scale = true, rebalance_auto_approve = true;
};

MillraceSpec parse_millrace(const json& obj);

std::string broker_yaml(const MillraceSpec& s);
std::string bootstrap_address(const MillraceSpec& s);
json owner_reference(const MillraceSpec& s);
json selector_labels(const MillraceSpec& s);

json render_config_map(const MillraceSpec& s);
std::string node_ids_config_map_name(const MillraceSpec& s);
json render_node_ids_config_map(const MillraceSpec& s, const NodeIds& ids);
std::string roles_config_map_name(const MillraceSpec& s);
json render_roles_config_map(const MillraceSpec& s, const NodeIds& ids);
// controller.quorum.voters: "<id>@<pod>.<name>-brokers.<ns>.svc:<controllerPort>,...".
std::string quorum_voters(const MillraceSpec& s, const NodeIds& ids);
json render_headless_service(const MillraceSpec& s);
json render_bootstrap_service(const MillraceSpec& s);
json render_stateful_set(const MillraceSpec& s, const NodeIds& ids);
json render_pdb(const MillraceSpec& s);
json render_service_monitor(const MillraceSpec& s);

// Everything the Millrace needs, in apply order.
std::vector<json> render_all(const MillraceSpec& s, const RenderOptions& opts);

// True when every field of `desired` is present in `live` with the same value
// (objects by key, arrays element-wise with equal length, numbers by value).
// Used to skip applies that would change nothing.
bool json_subset(const json& desired, const json& live);

}  // namespace millrace::op
