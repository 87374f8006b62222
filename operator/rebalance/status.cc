#include "operator/rebalance/status.h"

#include <cmath>
#include <ctime>

#include "operator/conditions.h"

namespace millrace::op::rebalance {
namespace {

// Rounded so that a value read back renders the same (and stays readable).
double round3(double x) { return std::round(x * 1000) / 1000; }

std::string time_of(int64_t ms) { return ms > 0 ? rfc3339(static_cast<std::time_t>(ms / 1000)) : ""; }

int64_t ms_of(const json& v) { return v.is_string() ? std::max<int64_t>(0, parse_rfc3339_ms(v.get<std::string>())) : 0; }

template <typename T>
T get_or(const json& obj, const char* key, T fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if constexpr (std::is_same_v<T, bool>) {
    return it->is_boolean() ? it->template get<bool>() : fallback;
  } else if constexpr (std::is_arithmetic_v<T>) {
    return it->is_number() ? it->template get<T>() : fallback;
  } else {
    return it->is_string() ? it->template get<T>() : fallback;
  }
}

std::vector<std::string> strings_of(const json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_array()) return out;
  for (const json& v : obj[key])
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

json band_json(const planner::GoalBalance& g) {
  return {{"min", round3(g.min)},     {"max", round3(g.max)},     {"mean", round3(g.mean)},
          {"lower", round3(g.lower)}, {"upper", round3(g.upper)}, {"balanced", g.balanced}};
}

planner::GoalBalance band_of(const std::string& goal, const json& j) {
  planner::GoalBalance g;
  g.goal = goal;
  g.min = get_or(j, "min", 0.0);
  g.max = get_or(j, "max", 0.0);
  g.mean = get_or(j, "mean", 0.0);
  g.lower = get_or(j, "lower", 0.0);
  g.upper = get_or(j, "upper", 0.0);
  g.balanced = get_or(j, "balanced", true);
  return g;
}

json broker_json(const planner::BrokerBalance& b) {
  return {{"replicas", b.replicas}, {"leaders", b.leaders}, {"bytes", b.bytes}, {"load", round3(b.load)}};
}

}  // namespace

int64_t parse_rfc3339_ms(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return -1;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

int64_t estimate_seconds(int64_t bytes, int64_t rate) {
  if (rate <= 0) return -1;
  return (bytes + rate - 1) / rate;
}

std::string plan_config_map_name(const std::string& rebalance) { return rebalance + "-plan"; }

json render_status(const Status& st, const StatusContext& ctx, int64_t generation, const json& old,
                   const std::string& now) {
  json out = json::object();
  out["observedGeneration"] = st.observed_generation;
  out["state"] = to_string(st.state);
  out["message"] = st.message;
  if (st.proposal_ms > 0) {
    const planner::Plan& p = st.proposal;
    json goals = json::array();
    for (size_t i = 0; i < p.before.size(); ++i) {
      json g = {{"goal", p.before[i].goal}, {"before", band_json(p.before[i])}};
      if (i < p.after.size()) g["after"] = band_json(p.after[i]);
      goals.push_back(g);
    }
    out["proposal"] = {{"computedAt", time_of(st.proposal_ms)},
                       {"reassignments", ctx.reassignments},
                       {"replicaMoves", p.replica_moves},
                       {"leaderMoves", p.leader_moves},
                       {"bytesToMove", p.bytes_to_move},
                       {"throttleBytesPerSecond", ctx.throttle_bytes_per_s},
                       {"estimatedSeconds", estimate_seconds(p.bytes_to_move, ctx.throttle_bytes_per_s)},
                       {"problems", p.problems},
                       {"goals", goals},
                       {"planConfigMap", ctx.plan_config_map}};
  }
  const Progress& pr = st.progress;
  if (pr.started_ms > 0) {
    out["progress"] = {{"movesTotal", pr.moves_total},   {"movesDone", pr.moves_done},
                       {"movesInFlight", pr.moves_in_flight}, {"bytesTotal", pr.bytes_total},
                       {"bytesLeft", pr.bytes_left},     {"startedAt", time_of(pr.started_ms)},
                       {"etaSeconds", pr.eta_seconds},   {"skipped", pr.skipped}};
  }
  // One condition for the state (Strimzi's KafkaRebalance), replacing the last one.
  json old_conditions = old.is_object() ? old.value("conditions", json::array()) : json::array();
  json kept = json::array();
  const std::string state = to_string(st.state);
  for (const json& c : old_conditions)
    if (c.is_object() && c.value("type", "") == state) kept.push_back(c);  // keeps its transition time
  json conditions = set_condition(kept, {state, "True", ctx.reason.empty() ? state : ctx.reason, st.message,
                                         generation},
                                  now);
  if (!ctx.unreachable_reason.empty()) {
    json prior = json::array();
    for (const json& c : old_conditions)
      if (c.is_object() && c.value("type", "") == "ClusterReachable") prior.push_back(c);
    json reach = set_condition(prior, {"ClusterReachable", "False", ctx.unreachable_reason, ctx.unreachable_message,
                                       generation},
                               now);
    conditions.push_back(reach[0]);
  }
  out["conditions"] = conditions;
  return out;
}

Status parse_status(const json& status) {
  Status st;
  if (!status.is_object()) return st;
  st.state = state_from(get_or<std::string>(status, "state", "New")).value_or(State::kNew);
  st.observed_generation = get_or<int64_t>(status, "observedGeneration", 0);
  st.message = get_or<std::string>(status, "message", "");
  const json proposal = status.value("proposal", json());
  if (proposal.is_object()) {
    st.proposal_ms = ms_of(proposal.value("computedAt", json()));
    planner::Plan& p = st.proposal;
    p.replica_moves = get_or<int32_t>(proposal, "replicaMoves", 0);
    p.leader_moves = get_or<int32_t>(proposal, "leaderMoves", 0);
    p.bytes_to_move = get_or<int64_t>(proposal, "bytesToMove", 0);
    p.problems = strings_of(proposal, "problems");
    const json goals = proposal.value("goals", json::array());
    if (goals.is_array())
      for (const json& g : goals) {
        if (!g.is_object()) continue;
        const std::string goal = get_or<std::string>(g, "goal", "");
        p.before.push_back(band_of(goal, g.value("before", json::object())));
        if (g.contains("after")) p.after.push_back(band_of(goal, g["after"]));
      }
  }
  const json progress = status.value("progress", json());
  if (progress.is_object()) {
    Progress& pr = st.progress;
    pr.moves_total = get_or<int32_t>(progress, "movesTotal", 0);
    pr.moves_done = get_or<int32_t>(progress, "movesDone", 0);
    pr.moves_in_flight = get_or<int32_t>(progress, "movesInFlight", 0);
    pr.bytes_total = get_or<int64_t>(progress, "bytesTotal", 0);
    pr.bytes_left = get_or<int64_t>(progress, "bytesLeft", 0);
    pr.started_ms = ms_of(progress.value("startedAt", json()));
    pr.eta_seconds = get_or<int64_t>(progress, "etaSeconds", -1);
    pr.skipped = strings_of(progress, "skipped");
  }
  return st;
}

json render_plan_data(const std::vector<planner::Reassignment>& moves, const planner::Plan& summary,
                      int64_t computed_at_ms) {
  json m = json::array();
  for (const planner::Reassignment& r : moves)
    m.push_back({{"topic", r.topic}, {"partition", r.partition}, {"from", r.from}, {"to", r.to}, {"bytes", r.bytes}});
  json b = json::array();
  for (size_t i = 0; i < summary.brokers_before.size(); ++i) {
    const planner::BrokerBalance& x = summary.brokers_before[i];
    json e = {{"id", x.id}, {"rack", x.rack}, {"before", broker_json(x)}};
    for (const planner::BrokerBalance& y : summary.brokers_after)
      if (y.id == x.id) e["after"] = broker_json(y);
    b.push_back(e);
  }
  return {{"computedAt", time_of(computed_at_ms)}, {"moves.json", m.dump()}, {"brokers.json", b.dump()}};
}

std::optional<std::vector<planner::Reassignment>> parse_plan_data(const json& data, int64_t computed_at_ms) {
  if (!data.is_object() || data.value("computedAt", json()) != json(time_of(computed_at_ms))) return std::nullopt;
  const json text = data.value("moves.json", json());
  if (!text.is_string()) return std::nullopt;
  const json moves = json::parse(text.get<std::string>(), nullptr, /*allow_exceptions=*/false);
  if (!moves.is_array()) return std::nullopt;
  std::vector<planner::Reassignment> out;
  for (const json& m : moves) {
    if (!m.is_object() || !m.value("topic", json()).is_string() || !m.value("partition", json()).is_number_integer() ||
        !m.value("from", json()).is_array() || !m.value("to", json()).is_array())
      return std::nullopt;
    planner::Reassignment r;
    r.topic = m["topic"].get<std::string>();
    r.partition = m["partition"].get<int32_t>();
    for (const json& b : m["from"]) {
      if (!b.is_number_integer()) return std::nullopt;
      r.from.push_back(b.get<int32_t>());
    }
    for (const json& b : m["to"]) {
      if (!b.is_number_integer()) return std::nullopt;
      r.to.push_back(b.get<int32_t>());
    }
    r.bytes = get_or<int64_t>(m, "bytes", 0);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace millrace::op::rebalance
