#include "cluster/replication/throttle.h"

#include <charconv>

namespace millrace::cluster {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool number(std::string_view s, int32_t& out) {
  s = trim(s);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Throttled throttled_by(std::string_view list, int32_t partition, int32_t broker) {
  list = trim(list);
  if (list.empty()) return Throttled::kLearners;
  if (list == "*") return Throttled::kOutOfSync;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    const size_t colon = item.find(':');
    int32_t p = -1, b = -1;
    if (colon != std::string_view::npos && number(item.substr(0, colon), p) && number(item.substr(colon + 1), b) &&
        p == partition && b == broker)
      return Throttled::kOutOfSync;
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return Throttled::kNone;
}

}  // namespace millrace::cluster
