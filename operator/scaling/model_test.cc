#include "operator/scaling/model.h"

#include <gtest/gtest.h>

namespace millrace::op::scaling {
namespace {

TEST(Model, RateModeDrainsWithFewerStepsThanALagThreshold) {
  Workload w;
  auto keda = run_keda(w, 1000);
  ScalerSpec rate;
  rate.drain_within_seconds = 60;
  rate.consume_rate_per_replica = w.consume_per_replica;
  auto ours = run_millrace(w, rate, "rate");
  ASSERT_GE(ours.drain_s, 0);
  ASSERT_GE(keda.drain_s, 0);
  EXPECT_LT(ours.steps, keda.steps) << "keda " << keda.steps << " steps, rate mode " << ours.steps;
  EXPECT_LE(ours.drain_s, keda.drain_s * 105 / 100);  // as fast, within a poll's worth
  // Sized from the produce rate, the group keeps up once drained: no lag
  // threshold's worth of records builds up again.
  EXPECT_LT(ours.max_lag_after_drain, keda.max_lag_after_drain);
}

TEST(Model, NeitherRuleExceedsThePartitions) {
  Workload w;
  ScalerSpec records;
  records.lag_per_replica = 1000;
  EXPECT_LE(run_millrace(w, records, "records").max_replicas, w.partitions);
  // KEDA's cap is off by one only at the boundary; here it is clipped.
  EXPECT_LE(run_keda(w, 1000).max_replicas, w.partitions);
}

TEST(Model, KedaIntegerDivisionCapGivesOneReplicaTooMany) {
  // KEDA issue 4483: 5 partitions, threshold 5, lag 29: 29 / 5 = 5 is not > 5,
  // so the metric stays 29 and the HPA asks ceil(29 / 5) = 6.
  Workload w;
  w.partitions = 5;
  w.burst = 29;
  w.produce_per_s = 0;
  w.consume_per_replica = 0.0001;  // nothing drains within the first poll
  w.horizon_s = 31;
  EXPECT_EQ(run_keda(w, 5).max_replicas, 6);
  ScalerSpec ours;
  ours.lag_per_replica = 5;
  EXPECT_EQ(run_millrace(w, ours, "records").max_replicas, 5);
}

}  // namespace
}  // namespace millrace::op::scaling
