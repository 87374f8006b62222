#include "cluster/controller/sim/controller_app.h"

#include <memory>

#include "cluster/controller/sim/metadata_batch.h"

namespace millrace::cluster::sim {

std::optional<raft::sim::AppProposal> ControllerApp::propose(int leader, raft::Term term,
                                                             const raft::sim::SimLog& log, raft::Index commit,
                                                             int64_t now, bool must) {
  std::optional<MetadataState> state = replicas_.speculative(leader, log);
  if (!state) return std::nullopt;
  std::vector<records::AnyRecord> rs =
      workload_.decide(leader, term.value(), *state, log.last().value() + 1, commit.value(), now, must);
  if (rs.empty()) return std::nullopt;
  raft::sim::AppProposal p;
  p.records = static_cast<int32_t>(rs.size());
  p.data = std::make_shared<const std::vector<uint8_t>>(encode_batch(rs));
  return p;
}

void ControllerApp::on_restart(int node, const raft::sim::SimLog& log, raft::Index commit) {
  workload_.forget(node);
  replicas_.restart(node, log, commit);
}

const std::string& ControllerApp::error() const {
  return replicas_.error().empty() ? workload_.error() : replicas_.error();
}

ControllerRun run_controller_seed(uint64_t seed, raft::sim::Scenario scenario, Flaw flaw) {
  ControllerApp app(seed, flaw);
  raft::sim::RunSpec spec;
  spec.seed = seed;
  spec.scenario = scenario;
  spec.app = &app;
  spec.replay = "MILLRACE_SEED=" + std::to_string(seed) + " MILLRACE_SIM_SCENARIO=" + raft::sim::to_string(scenario) +
                " build/release/cluster/controller/sim/controller_sim_test --gtest_filter='ControllerSim.Replay*'";
  ControllerRun out;
  out.sim = raft::sim::run_seed(spec);
  out.workload = app.workload().stats();
  out.indices_checked = app.replicas().indices_checked();
  out.comparisons = app.replicas().comparisons();
  out.replicas = app.replicas().stats();
  return out;
}

}  // namespace millrace::cluster::sim
