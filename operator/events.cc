#include "operator/events.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "operator/conditions.h"

namespace millrace::op {

void EventRecorder::record(const json& involved, const std::string& type, const std::string& reason,
                           const std::string& message) {
  const auto& md = involved["metadata"];
  auto ns = md.value("namespace", "default");
  auto now = now_rfc3339();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%llx",
                static_cast<unsigned long long>(std::chrono::system_clock::now().time_since_epoch().count()));
  json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", md.value("name", "") + "." + suffix}, {"namespace", ns}}},
             {"involvedObject",
              {{"apiVersion", involved.value("apiVersion", "")},
               {"kind", involved.value("kind", "")},
               {"name", md.value("name", "")},
               {"namespace", ns},
               {"uid", md.value("uid", "")}}},
             {"type", type},
             {"reason", reason},
             {"message", message},
             {"source", {{"component", "millrace-operator"}}},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"count", 1}};
  auto r = client_.create(res::kEvent.collection(ns), ev, res::kEvent.plural);
  if (!r.ok()) spdlog::warn("event {} on {}: {}", reason, md.value("name", ""), r.describe());
}

}  // namespace millrace::op
