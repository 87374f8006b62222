// Kubernetes Events (core/v1) about the objects the operator manages, so that
// `kubectl describe` tells a user what happened and why.
#pragma once

#include <string>

#include "operator/kube_client.h"

namespace millrace::op {

class EventRecorder {
 public:
  explicit EventRecorder(KubeClient& client) : client_(client) {}
  // type: "Normal" | "Warning"; reason CamelCase. Failures are logged, not returned:
  // an event is never worth failing a reconcile for.
  void record(const json& involved, const std::string& type, const std::string& reason, const std::string& message);

 private:
  KubeClient& client_;
};

}  // namespace millrace::op
