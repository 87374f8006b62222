#include "operator/render.h"
#include "operator/scale_down.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace millrace::op {
namespace {

json millrace_obj() {
  return json::parse(R"({
    "apiVersion": "millrace.io/v1alpha1", "kind": "Millrace",
    "metadata": {"name": "prod", "namespace": "kafka", "uid": "u-1", "generation": 3},
    "spec": {"brokers": 3, "image": "millrace:1", "storage": {"size": "5Gi", "storageClassName": "fast"},
             "config": {"log.retention.ms": "3600000", "num.partitions": "6"},
             "rackLabel": "topology.kubernetes.io/zone"}})");
}

TEST(Render, ParseFillsDefaultsForMissingFields) {
  auto s = parse_millrace(json::parse(R"({"metadata": {"name": "a", "namespace": "n"}, "spec": {}})"));
  EXPECT_EQ(s.brokers, 1);
  EXPECT_EQ(s.kafka_port, 9092);
  EXPECT_EQ(s.storage_size, "10Gi");
  EXPECT_TRUE(s.metrics);
}

TEST(Render, BrokerYamlCarriesUserConfigAndOperatorOwnedKeysWin) {
  auto s = parse_millrace(millrace_obj());
  s.config["log.dirs"] = "/elsewhere";
  auto y = YAML::Load(broker_yaml(s));
  EXPECT_EQ(y["log.retention.ms"].as<std::string>(), "3600000");
  EXPECT_EQ(y["num.partitions"].as<std::string>(), "6");
  EXPECT_EQ(y["log.dirs"].as<std::string>(), "/var/lib/millrace/data");
  EXPECT_EQ(y["listeners"].as<std::string>(), "PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093");
  EXPECT_EQ(y["controller.listener.names"].as<std::string>(), "CONTROLLER");
  EXPECT_FALSE(y["node.id"]) << "node.id comes from the pod, never the shared config";
}

NodeIds three_ids() {
  NodeIds ids;
  ids.by_pod = {{"prod-0", 0}, {"prod-1", 1}, {"prod-2", 2}};
  ids.next = 3;
  ids.voters = {0, 1, 2};
  return ids;
}

TEST(Render, StatefulSetHasIdentityStorageProbesAndSpread) {
  auto sts = render_stateful_set(parse_millrace(millrace_obj()), three_ids());
  EXPECT_EQ(sts["metadata"]["name"], "prod");
  EXPECT_EQ(sts["spec"]["replicas"], 3);
  EXPECT_EQ(sts["spec"]["serviceName"], "prod-brokers");
  const auto& claim = sts["spec"]["volumeClaimTemplates"][0];
  EXPECT_EQ(claim["spec"]["resources"]["requests"]["storage"], "5Gi");
  EXPECT_EQ(claim["spec"]["storageClassName"], "fast");
  EXPECT_EQ(sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"], "Retain");
  const auto& pod = sts["spec"]["template"]["spec"];
  const auto& c = pod["containers"][0];
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/readyz");
  EXPECT_EQ(c["lifecycle"]["preStop"]["sleep"]["seconds"], 5);
  EXPECT_GE(pod["terminationGracePeriodSeconds"].get<int>(), 30);
  EXPECT_EQ(pod["topologySpreadConstraints"][0]["topologyKey"], "topology.kubernetes.io/zone");
  EXPECT_EQ(pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
               ["podAffinityTerm"]["topologyKey"],
            "topology.kubernetes.io/zone");
  ASSERT_EQ(c["env"].size(), 2u);
  EXPECT_EQ(c["env"][1]["name"], "MILLRACE_BROKER_RACK");
  EXPECT_EQ(c["env"][1]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.labels['topology.kubernetes.io/zone']");
  auto args = c["args"].dump();
  // node.id: the pod's own key of the node-ids ConfigMap, never its ordinal.
  EXPECT_EQ(args.find("pod-index"), std::string::npos);
  EXPECT_NE(args.find(R"x("--set-from-file","node.id=/var/run/millrace/node-ids/$(POD_NAME)")x"), std::string::npos)
      << args;
  EXPECT_EQ(c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
  bool mounted = false;
  for (const auto& m : c["volumeMounts"])
    if (m["name"] == "node-ids" && m["mountPath"] == "/var/run/millrace/node-ids") mounted = true;
  EXPECT_TRUE(mounted);
  bool volume = false;
  for (const auto& v : pod["volumes"])
    if (v["name"] == "node-ids" && v["configMap"]["name"] == "prod-node-ids") volume = true;
  EXPECT_TRUE(volume);
  EXPECT_NE(args.find("prod-brokers.kafka.svc:9092"), std::string::npos);
  // One cluster: the roles file per pod and the same static voters for all.
  EXPECT_NE(args.find(R"x("--set-from-file","process.roles=/var/run/millrace/roles/$(POD_NAME)")x"), std::string::npos)
      << args;
  EXPECT_NE(args.find("controller.quorum.voters=0@prod-0.prod-brokers.kafka.svc:9093,1@prod-1.prod-brokers.kafka.svc:"
                      "9093,2@prod-2.prod-brokers.kafka.svc:9093"),
            std::string::npos)
      << args;
  bool controller_port = false;
  for (const auto& p : c["ports"])
    if (p["name"] == "controller" && p["containerPort"] == 9093) controller_port = true;
  EXPECT_TRUE(controller_port);
}

TEST(Render, RolesMakeTheVotersControllersAndTheRestBrokers) {
  auto ids = three_ids();
  ids.by_pod["prod-3"] = 3;
  ids.next = 4;
  auto cm = render_roles_config_map(parse_millrace(millrace_obj()), ids);
  EXPECT_EQ(cm["metadata"]["name"], "prod-roles");
  EXPECT_EQ(cm["data"]["prod-0"], "broker,controller");
  EXPECT_EQ(cm["data"]["prod-2"], "broker,controller");
  EXPECT_EQ(cm["data"]["prod-3"], "broker");
}

TEST(Render, ConfigChangeChangesThePodTemplateHash) {
  auto s = parse_millrace(millrace_obj());
  auto before = render_stateful_set(s, three_ids())["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation];
  s.config["log.retention.ms"] = "1";
  auto after = render_stateful_set(s, three_ids())["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation];
  EXPECT_NE(before, after);
}

TEST(Render, EveryObjectIsOwnedByTheMillrace) {
  auto s = parse_millrace(millrace_obj());
  for (const auto& o : render_all(s, {})) {
    const auto& ref = o["metadata"]["ownerReferences"][0];
    EXPECT_EQ(ref["uid"], "u-1") << o["kind"];
    EXPECT_EQ(ref["controller"], true);
    EXPECT_EQ(o["metadata"]["namespace"], "kafka");
  }
}

TEST(Render, HeadlessServicePublishesNotReadyAddresses) {
  auto svc = render_headless_service(parse_millrace(millrace_obj()));
  EXPECT_EQ(svc["spec"]["clusterIP"], "None");
  EXPECT_EQ(svc["spec"]["publishNotReadyAddresses"], true);
}

TEST(Render, ServiceMonitorOnlyWhenAskedAndItsCrdExists) {
  auto s = parse_millrace(millrace_obj());
  s.service_monitor = true;
  EXPECT_EQ(render_all(s, {.service_monitor_crd = false}).size(), 7u);
  EXPECT_EQ(render_all(s, {.service_monitor_crd = true}).size(), 8u);
  s.service_monitor = false;
  EXPECT_EQ(render_all(s, {.service_monitor_crd = true}).size(), 7u);
}

TEST(Render, NodeIdsConfigMapIsAppliedBeforeTheStatefulSetAndRecordsNextId) {
  auto s = parse_millrace(millrace_obj());
  NodeIds ids;
  ids.by_pod = {{"prod-0", 4}, {"prod-1", 9}};
  ids.next = 10;
  ids.voters = {4};
  auto all = render_all(s, {.node_ids = ids});
  int cm_at = -1, sts_at = -1;
  for (int i = 0; i < static_cast<int>(all.size()); ++i) {
    if (all[i]["metadata"]["name"] == "prod-node-ids") cm_at = i;
    if (all[i]["kind"] == "StatefulSet") sts_at = i;
  }
  ASSERT_GE(cm_at, 0);
  EXPECT_LT(cm_at, sts_at);
  const auto& cm = all[cm_at];
  EXPECT_EQ(cm["data"]["prod-0"], "4");
  EXPECT_EQ(cm["data"]["prod-1"], "9");
  EXPECT_EQ(cm["metadata"]["annotations"][kNextNodeIdAnnotation], "10");
  EXPECT_EQ(cm["metadata"]["annotations"][kControllerVotersAnnotation], "4");
  // What is rendered reads back as the same record.
  auto back = read_node_ids(&cm, "prod-node-ids");
  EXPECT_EQ(back.error, "");
  EXPECT_EQ(back.ids, ids);
}

TEST(BrokersToRun, SpecBrokersButNeverBelowThePodsHoldingVoters) {
  EXPECT_EQ(brokers_to_run(5, 3), 5);
  EXPECT_EQ(brokers_to_run(3, 3), 3);
  EXPECT_EQ(brokers_to_run(2, 3), 3);  // a voter's pod stays
  EXPECT_EQ(brokers_to_run(0, 0), 0);
}

TEST(JsonSubset, LiveObjectsWithDefaultedFieldsStillMatch) {
  auto desired = json::parse(R"({"spec": {"ports": [{"port": 9092}], "x": 1}})");
  auto live = json::parse(R"({"spec": {"ports": [{"port": 9092, "protocol": "TCP"}], "x": 1.0, "y": 2}})");
  EXPECT_TRUE(json_subset(desired, live));
}

TEST(JsonSubset, ChangedValueOrArrayLengthDoesNotMatch) {
  EXPECT_FALSE(json_subset(json::parse(R"({"a": 1})"), json::parse(R"({"a": 2})")));
  EXPECT_FALSE(json_subset(json::parse(R"({"a": [1]})"), json::parse(R"({"a": [1, 2]})")));
  EXPECT_FALSE(json_subset(json::parse(R"({"a": "x"})"), json::parse(R"({})")));
}

TEST(Render, NoRackLabelNoRackEnv) {
  auto obj = millrace_obj();
  obj["spec"].erase("rackLabel");
  auto sts = render_stateful_set(parse_millrace(obj), three_ids());
  for (const auto& e : sts["spec"]["template"]["spec"]["containers"][0]["env"])
    EXPECT_NE(e["name"], "MILLRACE_BROKER_RACK");
  EXPECT_EQ(sts["spec"]["template"]["spec"]["topologySpreadConstraints"][0]["topologyKey"], "kubernetes.io/hostname");
}

}  // namespace
}  // namespace millrace::op
