// Where the Kubernetes API server is and how to authenticate to it: from a
// kubeconfig file (client certificate/key or bearer token, CA file or inline
// data) or from inside a pod (service-account token and CA under
// /var/run/secrets/kubernetes.io/serviceaccount).
#pragma once

#include <optional>
#include <string>

namespace millrace::op {

struct KubeConfig {
  std::string server;          // https://host:port
  std::string ca_file;         // PEM; empty = system roots
  std::string client_cert_file;
  std::string client_key_file;
  std::string token;           // bearer token (service account)
  std::string token_file;      // re-read on use when set (projected tokens rotate)
  std::string namespace_;      // default namespace of the context
};

struct ConfigResult {
  std::optional<KubeConfig> config;
  std::string error;
};

// Loads the current context of a kubeconfig. Inline *-data fields are written
// to files under scratch_dir (cpprest's TLS setup wants file paths).
ConfigResult load_kubeconfig(const std::string& path, const std::string& scratch_dir);

// In-cluster: KUBERNETES_SERVICE_HOST/PORT, the mounted token, CA and namespace.
ConfigResult load_in_cluster(const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace millrace::op
