#include "operator/rebalance/spec.h"

#include <cstdint>
#include <limits>

namespace millrace::op::rebalance {

const char* mode_name(planner::Mode m) {
  switch (m) {
    case planner::Mode::kFull: return "full";
    case planner::Mode::kAddBrokers: return "add-brokers";
    case planner::Mode::kRemoveBrokers: return "remove-brokers";
  }
  return "full";
}

namespace {

bool is_int32(const json& v) {
  return v.is_number_integer() && v.get<int64_t>() >= std::numeric_limits<int32_t>::min() &&
         v.get<int64_t>() <= std::numeric_limits<int32_t>::max();
}

std::string parse_into(const json& spec, ParsedSpec& out) {
  if (!spec.is_object()) return "spec: required (an object)";
  const json& cluster = spec.value("cluster", json());
  if (!cluster.is_string() || cluster.get<std::string>().empty())
    return "spec.cluster: required, the name of a Millrace in this namespace";
  out.cluster = cluster.get<std::string>();

  Spec& s = out.spec;
  s.throttle_bytes_per_s = 0;  // the brokers' leader.replication.throttled.rate, filled in later
  const json mode = spec.value("mode", json("full"));
  if (mode == "full") s.planner.mode = planner::Mode::kFull;
  else if (mode == "add-brokers") s.planner.mode = planner::Mode::kAddBrokers;
  else if (mode == "remove-brokers") s.planner.mode = planner::Mode::kRemoveBrokers;
  else return "spec.mode: " + mode.dump() + " is not full, add-brokers or remove-brokers";

  const json brokers = spec.value("brokers", json::array());
  if (!brokers.is_array()) return "spec.brokers: must be a list of broker ids";
  for (size_t i = 0; i < brokers.size(); ++i) {
    if (!is_int32(brokers[i]) || brokers[i].get<int64_t>() < 0)
      return "spec.brokers[" + std::to_string(i) + "]: " + brokers[i].dump() + " is not a broker id";
    if (!s.planner.brokers.insert(brokers[i].get<int32_t>()).second)
      return "spec.brokers[" + std::to_string(i) + "]: broker " + brokers[i].dump() + " twice";
  }
  if (s.planner.mode == planner::Mode::kFull && !s.planner.brokers.empty())
    return "spec.brokers: only with mode add-brokers or remove-brokers (mode full balances over every broker)";
  if (s.planner.mode != planner::Mode::kFull && s.planner.brokers.empty())
    return std::string("spec.brokers: required with mode ") + mode_name(s.planner.mode);

  const json auto_approve = spec.value("autoApprove", json(false));
  if (!auto_approve.is_boolean()) return "spec.autoApprove: must be true or false";
  s.auto_approve = auto_approve.get<bool>();

  const json moves = spec.value("concurrentMoves", json(s.concurrent_moves));
  if (!is_int32(moves) || moves.get<int64_t>() < 1 || moves.get<int64_t>() > 1000)
    return "spec.concurrentMoves: " + moves.dump() + " is not between 1 and 1000";
  s.concurrent_moves = moves.get<int32_t>();

  const json goals = spec.value("goals", json::object());
  if (!goals.is_object()) return "spec.goals: must be an object";
  const json band = goals.value("band", json(s.planner.band));
  if (!band.is_number() || !(band.get<double>() > 0 && band.get<double>() < 1))
    return "spec.goals.band: " + band.dump() + " is not above 0 and below 1";
  s.planner.band = band.get<double>();
  const json tolerance = goals.value("countTolerance", json(s.planner.count_tolerance));
  if (!is_int32(tolerance) || tolerance.get<int64_t>() < 0 || tolerance.get<int64_t>() > 1000)
    return "spec.goals.countTolerance: " + tolerance.dump() + " is not between 0 and 1000";
  s.planner.count_tolerance = tolerance.get<int32_t>();

  const json excluded = spec.value("excludedTopics", json::array());
  if (!excluded.is_array()) return "spec.excludedTopics: must be a list of topic names";
  for (size_t i = 0; i < excluded.size(); ++i) {
    if (!excluded[i].is_string() || excluded[i].get<std::string>().empty())
      return "spec.excludedTopics[" + std::to_string(i) + "]: " + excluded[i].dump() + " is not a topic name";
    s.planner.excluded_topics.insert(excluded[i].get<std::string>());
  }
  return "";
}

}  // namespace

ParsedSpec parse_spec(const json& object) {
  ParsedSpec out;
  out.error = parse_into(object.is_object() ? object.value("spec", json()) : json(), out);
  return out;
}

std::string requested_action(const json& object) {
  const json md = object.is_object() ? object.value("metadata", json::object()) : json::object();
  const json ann = md.value("annotations", json::object());
  if (!ann.is_object()) return "";
  const json a = ann.value(kRebalanceAnnotation, json());
  if (a.is_string() && !a.get<std::string>().empty()) return a.get<std::string>();
  const json approve = ann.value(kApproveAnnotation, json());
  if (approve == "true") return "approve";
  if (approve.is_string() && !approve.get<std::string>().empty())
    return kApproveAnnotation + std::string("=") + approve.get<std::string>();  // unknown: reported, removed
  return "";
}

}  // namespace millrace::op::rebalance
