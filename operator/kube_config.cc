#include "operator/kube_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace millrace::op {
namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// base64 decode for kubeconfig *-data fields.
std::optional<std::string> b64decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    auto pos = chars.find(c);
    if (pos == std::string::npos) return std::nullopt;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

YAML::Node find_named(const YAML::Node& list, const std::string& name) {
  if (list && list.IsSequence())
    for (const auto& item : list)
      if (item["name"] && item["name"].as<std::string>() == name) return item;
  return YAML::Node();
}

// Resolves "<field>" (a path, relative to the kubeconfig's dir) or "<field>-data".
std::string file_field(const YAML::Node& n, const std::string& field, const std::filesystem::path& base,
                       const std::string& scratch, const std::string& out_name, std::string* error) {
  if (n[field]) {
    std::filesystem::path p = n[field].as<std::string>();
    return (p.is_absolute() ? p : base / p).string();
  }
  if (n[field + "-data"]) {
    auto data = b64decode(n[field + "-data"].as<std::string>());
    if (!data) {
      *error = field + "-data is not base64";
      return "";
    }
    std::filesystem::create_directories(scratch);
    auto path = std::filesystem::path(scratch) / out_name;
    std::ofstream(path) << *data;
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return path.string();
  }
  return "";
}

}  // namespace

ConfigResult load_kubeconfig(const std::string& path, const std::string& scratch_dir) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return {std::nullopt, "kubeconfig " + path + ": " + e.what()};
  }
  try {
    auto ctx_name = root["current-context"] ? root["current-context"].as<std::string>() : "";
    auto ctx = find_named(root["contexts"], ctx_name);
    if (!ctx || ctx.IsNull()) return {std::nullopt, "kubeconfig " + path + ": no context named '" + ctx_name + "'"};
    auto cluster = find_named(root["clusters"], ctx["context"]["cluster"].as<std::string>(""));
    auto user = find_named(root["users"], ctx["context"]["user"].as<std::string>(""));
    if (!cluster || cluster.IsNull()) return {std::nullopt, "kubeconfig " + path + ": context's cluster not found"};
    KubeConfig c;
    auto base = std::filesystem::absolute(path).parent_path();
    std::string err;
    c.server = cluster["cluster"]["server"].as<std::string>("");
    c.ca_file = file_field(cluster["cluster"], "certificate-authority", base, scratch_dir, "ca.crt", &err);
    if (user && !user.IsNull()) {
      auto u = user["user"];
      c.client_cert_file = file_field(u, "client-certificate", base, scratch_dir, "client.crt", &err);
      c.client_key_file = file_field(u, "client-key", base, scratch_dir, "client.key", &err);
      c.token = u["token"].as<std::string>("");
      c.token_file = u["tokenFile"].as<std::string>("");
    }
    c.namespace_ = ctx["context"]["namespace"].as<std::string>("default");
    if (!err.empty()) return {std::nullopt, "kubeconfig " + path + ": " + err};
    if (c.server.empty()) return {std::nullopt, "kubeconfig " + path + ": cluster has no server"};
    return {c, ""};
  } catch (const std::exception& e) {
    return {std::nullopt, "kubeconfig " + path + ": " + e.what()};
  }
}

ConfigResult load_in_cluster(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !port) return {std::nullopt, "not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset"};
  KubeConfig c;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  c.server = "https://" + h + ":" + port;
  c.ca_file = sa_dir + "/ca.crt";
  c.token_file = sa_dir + "/token";
  if (!read_file(c.token_file)) return {std::nullopt, "cannot read " + c.token_file};
  c.namespace_ = read_file(sa_dir + "/namespace").value_or("default");
  return {c, ""};
}

}  // namespace millrace::op
