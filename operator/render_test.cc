#include "operator/render.h"

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
  EXPECT_EQ(y["listeners"].as<std::string>(), "PLAINTEXT://0.0.0.0:9092");
  EXPECT_FALSE(y["node.id"]) << "node.id comes from the pod, never the shared config";
}

TEST(Render, StatefulSetHasIdentityStorageProbesAndSpread) {
  auto sts = render_stateful_set(parse_millrace(millrace_obj()));
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
  EXPECT_EQ(c["env"][1]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.labels['apps.kubernetes.io/pod-index']");
  EXPECT_EQ(pod["topologySpreadConstraints"][0]["topologyKey"], "topology.kubernetes.io/zone");
  EXPECT_EQ(pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
               ["podAffinityTerm"]["topologyKey"],
            "topology.kubernetes.io/zone");
  ASSERT_EQ(c["env"].size(), 3u);
  EXPECT_EQ(c["env"][2]["name"], "MILLRACE_BROKER_RACK");
  EXPECT_EQ(c["env"][2]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.labels['topology.kubernetes.io/zone']");
  auto args = c["args"].dump();
  EXPECT_NE(args.find("node.id=$(MILLRACE_NODE_ID)"), std::string::npos);
  EXPECT_NE(args.find("prod-brokers.kafka.svc:9092"), std::string::npos);
}

TEST(Render, ConfigChangeChangesThePodTemplateHash) {
  auto s = parse_millrace(millrace_obj());
  auto before = render_stateful_set(s)["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation];
  s.config["log.retention.ms"] = "1";
  auto after = render_stateful_set(s)["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation];
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
  EXPECT_EQ(render_all(s, {.service_monitor_crd = false}).size(), 5u);
  EXPECT_EQ(render_all(s, {.service_monitor_crd = true}).size(), 6u);
  s.service_monitor = false;
  EXPECT_EQ(render_all(s, {.service_monitor_crd = true}).size(), 5u);
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
  auto sts = render_stateful_set(parse_millrace(obj));
  for (const auto& e : sts["spec"]["template"]["spec"]["containers"][0]["env"])
    EXPECT_NE(e["name"], "MILLRACE_BROKER_RACK");
  EXPECT_EQ(sts["spec"]["template"]["spec"]["topologySpreadConstraints"][0]["topologyKey"], "kubernetes.io/hostname");
}

}  // namespace
}  // namespace millrace::op
