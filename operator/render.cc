#include "operator/render.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <iomanip>
#include <sstream>

namespace millrace::op {
namespace {

std::string hex_hash(const std::string& s) {
  // FNV-1a 64: a change detector for the config, not a security boundary.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::ostringstream os;
  os << std::hex << std::setw(16) << std::setfill('0') << h;
  return os.str();
}

json metadata(const MillraceSpec& s, const std::string& name) {
  return {{"name", name},
          {"namespace", s.namespace_},
          {"labels", {{kAppLabel, "millrace"}, {kInstanceLabel, s.name}, {kManagedByLabel, "millrace-operator"}}},
          {"ownerReferences", json::array({owner_reference(s)})}};
}

std::string headless_name(const MillraceSpec& s) { return s.name + "-brokers"; }

}  // namespace

MillraceSpec parse_millrace(const json& obj) {
  MillraceSpec s;
  const auto& md = obj.value("metadata", json::object());
  s.name = md.value("name", "");
  s.namespace_ = md.value("namespace", "default");
  s.uid = md.value("uid", "");
  const auto spec = obj.value("spec", json::object());
  s.brokers = spec.value("brokers", 1);
  s.image = spec.value("image", s.image);
  auto storage = spec.value("storage", json::object());
  s.storage_size = storage.value("size", s.storage_size);
  s.storage_class = storage.value("storageClassName", "");
  s.resources = spec.value("resources", json::object());
  const auto config = spec.value("config", json::object());
  for (const auto& [k, v] : config.items())
    s.config[k] = v.is_string() ? v.get<std::string>() : v.dump();
  auto listeners = spec.value("listeners", json::object());
  s.kafka_port = listeners.value("kafkaPort", s.kafka_port);
  s.admin_port = listeners.value("adminPort", s.admin_port);
  s.controller_port = listeners.value("controllerPort", s.controller_port);
  s.rack_label = spec.value("rackLabel", "");
  auto metrics = spec.value("metrics", json::object());
  s.metrics = metrics.value("enabled", true);
  s.service_monitor = metrics.value("serviceMonitor", false);
  auto on_scale = spec.value("rebalanceOnScale", json::object());
  if (on_scale.is_object()) {
    s.rebalance_on_scale = on_scale.value("enabled", true);
    s.rebalance_auto_approve = on_scale.value("autoApprove", true);
  }
  return s;
}

std::string bootstrap_address(const MillraceSpec& s) {
  return s.name + "-bootstrap." + s.namespace_ + ".svc:" + std::to_string(s.kafka_port);
}

json owner_reference(const MillraceSpec& s) {
  return {{"apiVersion", "millrace.io/v1alpha1"}, {"kind", "Millrace"}, {"name", s.name},
          {"uid", s.uid},  {"controller", true},  {"blockOwnerDeletion", true}};
}

json selector_labels(const MillraceSpec& s) {
  return {{kAppLabel, "millrace"}, {kInstanceLabel, s.name}, {"app.kubernetes.io/component", "broker"}};
}

std::string broker_yaml(const MillraceSpec& s) {
  // Operator-owned keys last so a user's config cannot move the listeners or volume.
  std::map<std::string, std::string> keys = s.config;
  keys["listeners"] = "PLAINTEXT://0.0.0.0:" + std::to_string(s.kafka_port) +
                     ",CONTROLLER://0.0.0.0:" + std::to_string(s.controller_port);
  keys["controller.listener.names"] = "CONTROLLER";
  keys["inter.broker.listener.name"] = "PLAINTEXT";
  keys["admin.listeners"] = "http://0.0.0.0:" + std::to_string(s.admin_port);
  keys["log.dirs"] = "/var/lib/millrace/data";
  YAML::Emitter out;
  out << YAML::Comment("Rendered by millrace-operator from Millrace " + s.namespace_ + "/" + s.name +
                       "; node.id (from " + node_ids_config_map_name(s) + "), process.roles (from " +
                       roles_config_map_name(s) +
                       "), controller.quorum.voters and advertised.listeners come from the pod's arguments.");
  out << YAML::BeginMap;
  for (const auto& [k, v] : keys) out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

json render_config_map(const MillraceSpec& s) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", metadata(s, s.name + "-config")},
          {"data", {{"broker.yaml", broker_yaml(s)}}}};
}

std::string node_ids_config_map_name(const MillraceSpec& s) { return s.name + "-node-ids"; }

json render_node_ids_config_map(const MillraceSpec& s, const NodeIds& ids) {
  auto md = metadata(s, node_ids_config_map_name(s));
  md["annotations"] = {{kNextNodeIdAnnotation, std::to_string(ids.next)}};
  if (!ids.voters.empty()) {
    std::string voters;
    for (auto id : ids.voters) {
      if (!voters.empty()) voters += ',';
      voters += std::to_string(id);
    }
    md["annotations"][kControllerVotersAnnotation] = voters;
  }
  json data = json::object();
  for (const auto& [pod, id] : ids.by_pod) data[pod] = std::to_string(id);
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", md}, {"data", data}};
}

std::string roles_config_map_name(const MillraceSpec& s) { return s.name + "-roles"; }

json render_roles_config_map(const MillraceSpec& s, const NodeIds& ids) {
  json data = json::object();
  for (const auto& [pod, id] : ids.by_pod) data[pod] = ids.is_voter(id) ? "broker,controller" : "broker";
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", metadata(s, roles_config_map_name(s))},
          {"data", data}};
}

std::string quorum_voters(const MillraceSpec& s, const NodeIds& ids) {
  std::string out;
  for (auto id : ids.voters) {
    if (!out.empty()) out += ",";
    out += std::to_string(id) + "@" + ids.pod_of(id) + "." + headless_name(s) + "." + s.namespace_ +
           ".svc:" + std::to_string(s.controller_port);
  }
  return out;
}

json render_headless_service(const MillraceSpec& s) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", metadata(s, headless_name(s))},
          {"spec",
           {{"clusterIP", "None"},
            {"publishNotReadyAddresses", true},
            {"selector", selector_labels(s)},
            {"ports",
             {{{"name", "kafka"}, {"port", s.kafka_port}, {"targetPort", "kafka"}, {"protocol", "TCP"}},
              {{"name", "admin"}, {"port", s.admin_port}, {"targetPort", "admin"}, {"protocol", "TCP"}},
              {{"name", "controller"}, {"port", s.controller_port}, {"targetPort", "controller"}, {"protocol", "TCP"}}}}}}};
}

json render_bootstrap_service(const MillraceSpec& s) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", metadata(s, s.name + "-bootstrap")},
          {"spec",
           {{"type", "ClusterIP"},
            {"selector", selector_labels(s)},
            {"ports", {{{"name", "kafka"}, {"port", s.kafka_port}, {"targetPort", "kafka"}, {"protocol", "TCP"}}}}}}};
}

json render_stateful_set(const MillraceSpec& s, const NodeIds& ids) {
  auto labels = selector_labels(s);
  std::string topology = s.rack_label.empty() ? "kubernetes.io/hostname" : s.rack_label;
  json container = {
      {"name", "broker"},
      {"image", s.image},
      {"args",
       {"--config", "/etc/millrace/broker.yaml", "--set-from-file",
        std::string("node.id=") + kNodeIdsMountPath + "/$(POD_NAME)", "--set-from-file",
        std::string("process.roles=") + kRolesMountPath + "/$(POD_NAME)", "--set",
        "advertised.listeners=PLAINTEXT://$(POD_NAME)." + headless_name(s) + "." + s.namespace_ +
            ".svc:" + std::to_string(s.kafka_port),
        "--set", "controller.quorum.voters=" + quorum_voters(s, ids)}},
      {"env",
       {{{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}}}},
      {"ports",
       {{{"name", "kafka"}, {"containerPort", s.kafka_port}, {"protocol", "TCP"}},
        {{"name", "admin"}, {"containerPort", s.admin_port}, {"protocol", "TCP"}},
        {{"name", "controller"}, {"containerPort", s.controller_port}, {"protocol", "TCP"}}}},
      {"readinessProbe",
       {{"httpGet", {{"path", "/readyz"}, {"port", "admin"}}}, {"periodSeconds", 5}, {"failureThreshold", 3}}},
      {"livenessProbe",
       {{"httpGet", {{"path", "/healthz"}, {"port", "admin"}}}, {"periodSeconds", 10}, {"failureThreshold", 6}}},
      {"lifecycle", {{"preStop", {{"sleep", {{"seconds", 5}}}}}}},
      {"volumeMounts",
       {{{"name", "config"}, {"mountPath", "/etc/millrace"}},
        {{"name", "node-ids"}, {"mountPath", kNodeIdsMountPath}, {"readOnly", true}},
        {{"name", "roles"}, {"mountPath", kRolesMountPath}, {"readOnly", true}},
        {{"name", "data"}, {"mountPath", "/var/lib/millrace"}}}}};
  if (!s.rack_label.empty()) {
    // broker.rack from the pod's copy of its node's rack label: Kubernetes >= 1.35
    // (PodTopologyLabels admission, beta, on by default) copies the node's
    // topology.kubernetes.io/zone and /region onto the pod at binding, before any
    // container starts. Other node labels are not copied: the env is then empty
    // and the broker announces no rack (an init container reading the node would
    // be needed; not built).
    container["env"].push_back(
        {{"name", "MILLRACE_BROKER_RACK"},
         {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.labels['" + s.rack_label + "']"}}}}}});
  }
  if (!s.resources.empty()) container["resources"] = s.resources;
  json claim_spec = {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", s.storage_size}}}}}};
  if (!s.storage_class.empty()) claim_spec["storageClassName"] = s.storage_class;
  json pod_spec = {
      {"terminationGracePeriodSeconds", 60},
      {"containers", {container}},
      {"volumes",
       {{{"name", "config"}, {"configMap", {{"name", s.name + "-config"}}}},
        {{"name", "node-ids"}, {"configMap", {{"name", node_ids_config_map_name(s)}}}},
        {{"name", "roles"}, {"configMap", {{"name", roles_config_map_name(s)}}}}}},
      {"affinity",
       {{"podAntiAffinity",
         {{"preferredDuringSchedulingIgnoredDuringExecution",
           {{{"weight", 100},
             {"podAffinityTerm", {{"topologyKey", topology}, {"labelSelector", {{"matchLabels", labels}}}}}}}}}}}},
      {"topologySpreadConstraints",
       {{{"maxSkew", 1},
         {"topologyKey", topology},
         {"whenUnsatisfiable", "ScheduleAnyway"},
         {"labelSelector", {{"matchLabels", labels}}}}}}};
  auto md = metadata(s, s.name);
  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", md},
          {"spec",
           {{"replicas", s.brokers},
            {"serviceName", headless_name(s)},
            {"podManagementPolicy", "Parallel"},
            // The operator rolls the pods itself, one at a time behind its
            // restart gate (millrace_reconciler.h): a new template restarts nothing.
            {"updateStrategy", {{"type", "OnDelete"}}},
            {"selector", {{"matchLabels", labels}}},
            {"persistentVolumeClaimRetentionPolicy", {{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}}},
            {"template",
             {{"metadata",
               {{"labels", labels}, {"annotations", {{kConfigHashAnnotation, hex_hash(broker_yaml(s))}}}}},
              {"spec", pod_spec}}},
            {"volumeClaimTemplates",
             {{{"apiVersion", "v1"},
               {"kind", "PersistentVolumeClaim"},
               {"metadata", {{"name", "data"}}},
               {"spec", claim_spec}}}}}}};
}

json render_pdb(const MillraceSpec& s) {
  return {{"apiVersion", "policy/v1"},
          {"kind", "PodDisruptionBudget"},
          {"metadata", metadata(s, s.name)},
          {"spec", {{"maxUnavailable", 1}, {"selector", {{"matchLabels", selector_labels(s)}}}}}};
}

json render_service_monitor(const MillraceSpec& s) {
  return {{"apiVersion", "monitoring.coreos.com/v1"},
          {"kind", "ServiceMonitor"},
          {"metadata", metadata(s, s.name)},
          {"spec",
           {{"selector", {{"matchLabels", {{kInstanceLabel, s.name}, {kManagedByLabel, "millrace-operator"}}}}},
            {"endpoints", {{{"port", "admin"}, {"path", "/metrics"}, {"interval", "30s"}}}}}}};
}

std::vector<json> render_all(const MillraceSpec& s, const RenderOptions& opts) {
  std::vector<json> out = {render_config_map(s),         render_node_ids_config_map(s, opts.node_ids),
                           render_roles_config_map(s, opts.node_ids), render_headless_service(s),
                           render_bootstrap_service(s), render_stateful_set(s, opts.node_ids),
                           render_pdb(s)};
  if (s.metrics && s.service_monitor && opts.service_monitor_crd) out.push_back(render_service_monitor(s));
  return out;
}

bool json_subset(const json& desired, const json& live) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (const auto& [k, v] : desired.items()) {
      auto it = live.find(k);
      if (it == live.end() || !json_subset(v, *it)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i)
      if (!json_subset(desired[i], live[i])) return false;
    return true;
  }
  if (desired.is_number() && live.is_number()) return desired.get<double>() == live.get<double>();
  return desired == live;
}

}  // namespace millrace::op
