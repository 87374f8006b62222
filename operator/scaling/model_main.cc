// Prints the side-by-side table of docs/consumer-scaling.md: the model workload
// (model.h) through KEDA's rule and each Millrace mode. `make scaling-model`.
#include <iostream>

#include "operator/scaling/model.h"

int main() {
  millrace::op::scaling::Workload w;
  std::cout << "Workload: " << w.partitions << " partitions, a burst of " << w.burst << " records, then "
            << w.produce_per_s << " records/s; each replica consumes " << w.consume_per_replica
            << " records/s; every scale step pauses the group " << w.rebalance_pause_s << " s; " << w.horizon_s
            << " s simulated, one replica at the start.\n\n";
  std::cout << millrace::op::scaling::comparison_table(w);
}
