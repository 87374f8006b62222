#include "operator/scaling/scaler_spec.h"

#include <gtest/gtest.h>

namespace millrace::op::scaling {
namespace {

json scaler(json spec) {
  json base = {{"groupId", "orders-app"},
               {"clusterRef", {{"name", "demo"}}},
               {"scaleTargetRef", {{"kind", "Deployment"}, {"name", "orders-app"}}},
               {"lagPerReplica", 100}};
  for (auto& [k, v] : spec.items()) {
    if (v.is_null()) base.erase(k);
    else base[k] = v;
  }
  return {{"metadata", {{"name", "s"}}}, {"spec", base}};
}

TEST(ScalerSpec, DefaultsAreKedasAndHpasWhereTheyExist) {
  auto p = parse_scaler(scaler(json::object()));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.group_id, "orders-app");
  EXPECT_EQ(p.target.api_version, "apps/v1");
  EXPECT_EQ(p.rule.min_replicas, 1);
  EXPECT_FALSE(p.rule.max_replicas);
  EXPECT_EQ(p.rule.lag_per_replica, 100);
  EXPECT_EQ(p.rule.cooldown_ms, 300000);
  EXPECT_EQ(p.rule.scale_down.stabilization_window_ms, 300000);
  EXPECT_EQ(p.reset, ResetPolicy::kLatest);
  EXPECT_EQ(p.poll_interval_ms, 15000);
  EXPECT_FALSE(p.paused);
}

TEST(ScalerSpec, BehaviorAndModesAreRead) {
  auto p = parse_scaler(scaler({{"minReplicas", 0},
                                {"maxReplicas", 6},
                                {"drainWithinSeconds", 120},
                                {"lagSecondsPerReplica", 30.5},
                                {"offsetResetPolicy", "earliest"},
                                {"behavior",
                                 {{"scaleUp",
                                   {{"stabilizationWindowSeconds", 10},
                                    {"selectPolicy", "Min"},
                                    {"policies", {{{"type", "Pods"}, {"value", 2}, {"periodSeconds", 30}}}}}}}}}));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.rule.min_replicas, 0);
  EXPECT_EQ(p.rule.max_replicas, 6);
  EXPECT_EQ(p.rule.drain_within_seconds, 120);
  EXPECT_EQ(p.rule.lag_seconds_per_replica, 30.5);
  EXPECT_EQ(p.reset, ResetPolicy::kEarliest);
  EXPECT_EQ(p.rule.scale_up.stabilization_window_ms, 10000);
  EXPECT_EQ(p.rule.scale_up.select, ScalingRules::Select::kMin);
  ASSERT_EQ(p.rule.scale_up.policies.size(), 1u);
  EXPECT_EQ(p.rule.scale_up.policies[0].period_ms, 30000);
}

TEST(ScalerSpec, InvalidSpecsNameTheField) {
  auto error_of = [](json spec) { return parse_scaler(scaler(std::move(spec))).error; };
  EXPECT_NE(error_of({{"minReplicas", 5}, {"maxReplicas", 2}}).find("spec.minReplicas"), std::string::npos);
  EXPECT_NE(error_of({{"lagPerReplica", nullptr}}).find("at least one target"), std::string::npos);
  EXPECT_NE(error_of({{"lagPerReplica", 0}}).find("spec.lagPerReplica"), std::string::npos);
  EXPECT_NE(error_of({{"groupId", nullptr}}).find("spec.groupId"), std::string::npos);
  EXPECT_NE(error_of({{"bootstrapServers", "x:9092"}}).find("exactly one"), std::string::npos);
  EXPECT_NE(error_of({{"scaleTargetRef", {{"name", "x"}}}}).find("spec.scaleTargetRef"), std::string::npos);
  EXPECT_NE(error_of({{"offsetResetPolicy", "middle"}}).find("spec.offsetResetPolicy"), std::string::npos);
  EXPECT_NE(error_of({{"drainWithinSeconds", -1}}).find("spec.drainWithinSeconds"), std::string::npos);
  EXPECT_NE(error_of({{"behavior", {{"scaleDown", {{"selectPolicy", "Sometimes"}}}}}})
                .find("spec.behavior.scaleDown.selectPolicy"),
            std::string::npos);
  EXPECT_NE(error_of({{"behavior", {{"scaleUp", {{"policies", {{{"type", "Pods"}}}}}}}}})
                .find("spec.behavior.scaleUp.policies[0]"),
            std::string::npos);
  EXPECT_NE(error_of({{"behavior", {{"scaleUp", {{"stabilizationWindowSeconds", -3}}}}}})
                .find("spec.behavior.scaleUp.stabilizationWindowSeconds"),
            std::string::npos);
}

TEST(ScalerSpec, PausedByAnnotation) {
  auto obj = scaler(json::object());
  obj["metadata"]["annotations"] = {{kPausedAnnotation, "true"}};
  EXPECT_TRUE(parse_scaler(obj).paused);
}

}  // namespace
}  // namespace millrace::op::scaling
