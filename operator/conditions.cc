#include "operator/conditions.h"

#include <ctime>

namespace millrace::op {
namespace {

json strip_times(const json& j) {
  if (j.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : j.items())
      if (k != "lastTransitionTime" && !v.is_null()) out[k] = strip_times(v);  // null: absent (merge patch)
    return out;
  }
  if (j.is_array()) {
    json out = json::array();
    for (const auto& v : j) out.push_back(strip_times(v));
    return out;
  }
  return j;
}

}  // namespace

json set_condition(const json& conditions, const Condition& c, const std::string& now) {
  json out = json::array();
  bool found = false;
  if (conditions.is_array()) {
    for (const auto& old : conditions) {
      if (old.value("type", "") != c.type) {
        out.push_back(old);
        continue;
      }
      found = true;
      std::string when = old.value("status", "") == c.status ? old.value("lastTransitionTime", now) : now;
      out.push_back({{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message},
                     {"observedGeneration", c.observed_generation}, {"lastTransitionTime", when}});
    }
  }
  if (!found)
    out.push_back({{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message},
                   {"observedGeneration", c.observed_generation}, {"lastTransitionTime", now}});
  return out;
}

json remove_condition(const json& conditions, const std::string& type) {
  json out = json::array();
  if (conditions.is_array())
    for (const auto& c : conditions)
      if (c.value("type", "") != type) out.push_back(c);
  return out;
}

json find_condition(const json& conditions, const std::string& type) {
  if (conditions.is_array())
    for (const auto& c : conditions)
      if (c.value("type", "") == type) return c;
  return nullptr;
}

bool status_equal(const json& a, const json& b) { return strip_times(a) == strip_times(b); }

std::string now_rfc3339() { return rfc3339(std::time(nullptr)); }

std::string rfc3339(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace millrace::op
