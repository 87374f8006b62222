// How a Rebalance's state is written down, and read back after an operator
// restart: `status` (the machine's Status, the proposal's summary, progress,
// conditions) and the plan's ConfigMap (the moves themselves, plus per-broker
// balance before and after, which would make the status too large). Pure.
//
// status:
//   observedGeneration, state (New|ProposalReady|Rebalancing|Stopped|Ready|NotReady), message
//   proposal: computedAt, reassignments, replicaMoves, leaderMoves, bytesToMove,
//             throttleBytesPerSecond, estimatedSeconds (-1: no throttle set),
//             problems[], goals[{goal, before{min,max,mean,lower,upper,balanced}, after{...}}],
//             planConfigMap
//   progress: movesTotal, movesDone, movesInFlight, bytesTotal, bytesLeft,
//             startedAt, etaSeconds (-1: unknown), skipped[]
//   conditions: one, Strimzi's way: type = the state, status "True", a CamelCase
//               reason; plus ClusterReachable=False while the brokers cannot be asked.
// Times are RFC 3339 seconds; a status read back and written again is the same
// JSON (status_equal), so a converged Rebalance is never written twice.
//
// ConfigMap <rebalance>-plan, owned by the Rebalance:
//   data.computedAt   the proposal it belongs to (equal to status.proposal.computedAt)
//   data.moves.json   [{topic, partition, from[], to[], bytes}]
//   data.brokers.json [{id, rack, before{replicas,leaders,bytes,load}, after{...}}]
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "operator/rebalance/machine.h"

namespace millrace::op::rebalance {

using json = nlohmann::json;

// What a status is rendered with besides the machine's Status.
struct StatusContext {
  int32_t reassignments = 0;        // the stored plan's size
  int64_t throttle_bytes_per_s = 0; // the brokers' leader.replication.throttled.rate (0: none)
  std::string plan_config_map;
  std::string reason;               // the state condition's reason; "" = the state's name
  // Set when the brokers could not be asked: ClusterReachable=False with this message.
  std::string unreachable_reason, unreachable_message;
};

// The status object to write. `old` is the status as stored (for the conditions'
// lastTransitionTime); `now` RFC 3339.
json render_status(const Status& st, const StatusContext& ctx, int64_t generation, const json& old,
                   const std::string& now);

// The machine's Status from a stored status (missing or malformed fields: their
// defaults; no status at all: state New).
Status parse_status(const json& status);

std::string plan_config_map_name(const std::string& rebalance);

// The plan ConfigMap's data, and the moves back from it (nullopt when its
// computedAt is not `computed_at`, or it cannot be read: a lost plan).
json render_plan_data(const std::vector<planner::Reassignment>& moves, const planner::Plan& summary,
                      int64_t computed_at_ms);
std::optional<std::vector<planner::Reassignment>> parse_plan_data(const json& data, int64_t computed_at_ms);

// RFC 3339 (seconds, "Z") to milliseconds since the epoch; -1 when malformed.
int64_t parse_rfc3339_ms(const std::string& s);

// The estimated seconds to copy `bytes` at `rate` bytes/s (one sender at a time:
// an upper bound when several leaders send at once); -1 without a rate.
int64_t estimate_seconds(int64_t bytes, int64_t rate);

}  // namespace millrace::op::rebalance
