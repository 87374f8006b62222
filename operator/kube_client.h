// A small Kubernetes API client on cpprestsdk: typed paths for the resources
// the operator touches, plain verbs (get, list, create, server-side apply,
// merge patch, update, delete) and a streaming watch. Every call returns a
// KubeResult value; nothing throws across this boundary. Thread-safe: calls may
// come from the reconcile workers and the informer threads at once.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "operator/kube_config.h"

namespace millrace::op {

using json = nlohmann::json;

// One resource type: where it lives in the API.
struct Resource {
  std::string api;     // "/api/v1" or "/apis/apps/v1"
  std::string plural;  // "statefulsets"
  bool namespaced = true;
  std::string kind;    // "StatefulSet"; used for apply bodies and metrics
  std::string api_version() const;  // "apps/v1"
  std::string collection(const std::string& ns) const;
  std::string object(const std::string& ns, const std::string& name) const;
};

namespace res {
extern const Resource kConfigMap, kService, kPod, kStatefulSet, kPdb, kLease, kEvent, kMillrace, kTopic,
    kConsumerGroupScaler, kRebalance,
    kServiceMonitor, kCrd;
}

struct KubeResult {
  int status = 0;      // HTTP status; 0 when the request did not complete
  json body;           // parsed response (null when empty or not JSON)
  std::string error;   // transport error, or the API's Status.message
  bool ok() const { return status >= 200 && status < 300; }
  bool not_found() const { return status == 404; }
  bool conflict() const { return status == 409; }
  bool gone() const { return status == 410; }
  std::string reason() const { return body.is_object() ? body.value("reason", "") : ""; }
  std::string describe() const;
};

// Called after every write request returns, answered or not (verb: create|apply|patch|update|delete,
// resource: plural).
using WriteObserver = std::function<void(const std::string& verb, const std::string& resource)>;

class KubeClient {
 public:
  KubeClient(KubeConfig config, WriteObserver on_write);
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  const KubeConfig& config() const { return config_; }

  KubeResult get(const std::string& path);
  KubeResult create(const std::string& collection_path, const json& body, const std::string& plural);
  // Server-side apply (PATCH application/apply-patch+yaml) with a field manager; force takes ownership.
  KubeResult apply(const std::string& path, const json& body, const std::string& plural, bool force = true);
  KubeResult merge_patch(const std::string& path, const json& patch, const std::string& plural);
  KubeResult update(const std::string& path, const json& body, const std::string& plural);
  KubeResult remove(const std::string& path, const std::string& plural);

  // Streams a watch on path (which carries its query): calls on_event for each
  // event object until the server closes the stream, on_event returns false,
  // stop becomes true (checked between events) or an error occurs.
  // set_canceller receives a function that aborts this watch from another thread
  // (and an empty function when the watch ends).
  KubeResult watch(const std::string& path, const std::function<bool(const json&)>& on_event,
                   const std::atomic<bool>& stop,
                   const std::function<void(std::function<void()>)>& set_canceller = {});

  static constexpr const char* kFieldManager = "millrace-operator";

 private:
  KubeResult request(const std::string& method, const std::string& path, const std::string& body,
                     const std::string& content_type);
  void note_write(const std::string& verb, const std::string& plural);

  struct Impl;
  KubeConfig config_;
  WriteObserver on_write_;
  std::unique_ptr<Impl> impl_;
};

std::string url_encode(const std::string& s);

}  // namespace millrace::op
