// Status conditions (type, status, reason, message, observedGeneration,
// lastTransitionTime), as metav1.Condition: set one without losing the
// transition time when only the message moved, and compare two statuses the way
// a "write only when changed" rule needs (transition times ignored).
#pragma once

#include <nlohmann/json.hpp>

#include <ctime>
#include <string>

namespace millrace::op {

using json = nlohmann::json;

struct Condition {
  std::string type, status, reason, message;
  int64_t observed_generation = 0;
};

// Returns `conditions` (an array, possibly null) with `c` set. lastTransitionTime
// is `now` when the status flipped or the condition is new, else kept.
json set_condition(const json& conditions, const Condition& c, const std::string& now);

// Returns `conditions` without the condition of that type (an array, possibly empty).
json remove_condition(const json& conditions, const std::string& type);

// The condition of that type, or null.
json find_condition(const json& conditions, const std::string& type);

// Equal apart from lastTransitionTime fields anywhere inside; a member whose
// value is null counts as absent (what a merge patch makes of it).
bool status_equal(const json& a, const json& b);

// RFC 3339 UTC, seconds precision (what metav1.Time serializes to).
std::string now_rfc3339();
std::string rfc3339(std::time_t seconds_since_epoch);

}  // namespace millrace::op
