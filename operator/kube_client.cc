#include "operator/kube_client.h"

#include <cpprest/http_client.h>
#include <cpprest/containerstream.h>

#include <boost/asio/ssl.hpp>
#include <fstream>
#include <sstream>

namespace millrace::op {

namespace res {
const Resource kConfigMap{"/api/v1", "configmaps", true, "ConfigMap"};
const Resource kService{"/api/v1", "services", true, "Service"};
const Resource kPod{"/api/v1", "pods", true, "Pod"};
const Resource kStatefulSet{"/apis/apps/v1", "statefulsets", true, "StatefulSet"};
const Resource kPdb{"/apis/policy/v1", "poddisruptionbudgets", true, "PodDisruptionBudget"};
const Resource kLease{"/apis/coordination.k8s.io/v1", "leases", true, "Lease"};
const Resource kEvent{"/api/v1", "events", true, "Event"};
const Resource kMillrace{"/apis/millrace.io/v1alpha1", "millraces", true, "Millrace"};
const Resource kTopic{"/apis/millrace.io/v1alpha1", "topics", true, "Topic"};
const Resource kRebalance{"/apis/millrace.io/v1alpha1", "rebalances", true, "Rebalance"};
const Resource kConsumerGroupScaler{"/apis/millrace.io/v1alpha1", "consumergroupscalers", true, "ConsumerGroupScaler"};
const Resource kServiceMonitor{"/apis/monitoring.coreos.com/v1", "servicemonitors", true, "ServiceMonitor"};
const Resource kCrd{"/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", false, "CustomResourceDefinition"};
}  // namespace res

std::string Resource::api_version() const {
  if (api.rfind("/apis/", 0) == 0) return api.substr(6);
  return api.substr(5);  // "/api/v1" -> "v1"
}

std::string Resource::collection(const std::string& ns) const {
  if (!namespaced || ns.empty()) return api + "/" + plural;
  return api + "/namespaces/" + ns + "/" + plural;
}

std::string Resource::object(const std::string& ns, const std::string& name) const {
  return collection(ns) + "/" + name;
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string KubeResult::describe() const {
  std::ostringstream os;
  os << "HTTP " << status;
  if (!reason().empty()) os << " " << reason();
  if (!error.empty()) os << ": " << error;
  return os.str();
}

namespace http = web::http;
namespace hc = web::http::client;

struct KubeClient::Impl {
  hc::http_client_config make_config(std::chrono::seconds timeout) const {
    hc::http_client_config cfg;
    cfg.set_timeout(timeout);
    auto ca = config.ca_file, cert = config.client_cert_file, key = config.client_key_file;
    cfg.set_ssl_context_callback([ca, cert, key](boost::asio::ssl::context& ctx) {
      boost::system::error_code ec;
      if (!ca.empty()) ctx.load_verify_file(ca, ec);
      if (!cert.empty()) ctx.use_certificate_chain_file(cert, ec);
      if (!key.empty()) ctx.use_private_key_file(key, boost::asio::ssl::context::pem, ec);
    });
    return cfg;
  }
  explicit Impl(const KubeConfig& c)
      : config(c),
        client(web::uri(c.server), make_config(std::chrono::seconds(30))) {}

  std::string bearer() const {
    if (!config.token_file.empty()) {
      std::ifstream in(config.token_file);
      std::stringstream ss;
      ss << in.rdbuf();
      auto t = ss.str();
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
      if (!t.empty()) return t;
    }
    return config.token;
  }

  http::http_request make(const std::string& method, const std::string& path) const {
    http::http_request req(method);
    req.set_request_uri(path);
    req.headers().add("Accept", "application/json");
    req.headers().add("User-Agent", "millrace-operator");
    auto tok = bearer();
    if (!tok.empty()) req.headers().add("Authorization", "Bearer " + tok);
    return req;
  }

  KubeConfig config;
  hc::http_client client;
};

KubeClient::KubeClient(KubeConfig config, WriteObserver on_write)
    : config_(std::move(config)), on_write_(std::move(on_write)), impl_(std::make_unique<Impl>(config_)) {}

KubeClient::~KubeClient() = default;

KubeResult KubeClient::request(const std::string& method, const std::string& path, const std::string& body,
                               const std::string& content_type) {
  KubeResult r;
  try {
    auto req = impl_->make(method, path);
    if (!content_type.empty()) req.set_body(body, content_type);
    auto resp = impl_->client.request(req).get();
    r.status = resp.status_code();
    auto text = resp.extract_utf8string(true).get();
    if (!text.empty()) {
      r.body = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (r.body.is_discarded()) r.body = json();
    }
    if (!r.ok()) r.error = r.body.is_object() ? r.body.value("message", text) : text;
  } catch (const std::exception& e) {
    r.status = 0;
    r.error = std::string("request ") + method + " " + path + ": " + e.what();
  }
  return r;
}

void KubeClient::note_write(const std::string& verb, const std::string& plural) {
  if (on_write_) on_write_(verb, plural);
}

KubeResult KubeClient::get(const std::string& path) { return request("GET", path, "", ""); }

KubeResult KubeClient::create(const std::string& collection_path, const json& body, const std::string& plural) {
  auto r = request("POST", collection_path, body.dump(), "application/json");
  note_write("create", plural);
  return r;
}

KubeResult KubeClient::apply(const std::string& path, const json& body, const std::string& plural, bool force) {
  auto q = path + "?fieldManager=" + kFieldManager + (force ? "&force=true" : "");
  auto r = request("PATCH", q, body.dump(), "application/apply-patch+yaml");
  note_write("apply", plural);
  return r;
}

KubeResult KubeClient::merge_patch(const std::string& path, const json& patch, const std::string& plural) {
  auto r = request("PATCH", path + "?fieldManager=" + kFieldManager, patch.dump(), "application/merge-patch+json");
  note_write("patch", plural);
  return r;
}

KubeResult KubeClient::update(const std::string& path, const json& body, const std::string& plural) {
  auto r = request("PUT", path + "?fieldManager=" + kFieldManager, body.dump(), "application/json");
  note_write("update", plural);
  return r;
}

KubeResult KubeClient::remove(const std::string& path, const std::string& plural) {
  auto r = request("DELETE", path, "", "");
  note_write("delete", plural);
  return r;
}

KubeResult KubeClient::watch(const std::string& path, const std::function<bool(const json&)>& on_event,
                             const std::atomic<bool>& stop,
                             const std::function<void(std::function<void()>)>& set_canceller) {
  KubeResult r;
  pplx::cancellation_token_source cts;
  if (set_canceller) set_canceller([cts]() mutable { cts.cancel(); });
  struct Clear {
    const std::function<void(std::function<void()>)>& f;
    ~Clear() {
      if (f) f({});
    }
  } clear{set_canceller};
  try {
    // A client of its own: a watch holds its connection for minutes.
    hc::http_client client(web::uri(config_.server), impl_->make_config(std::chrono::seconds(120)));
    auto resp = client.request(impl_->make("GET", path), cts.get_token()).get();
    r.status = resp.status_code();
    if (r.status != 200) {
      auto text = resp.extract_utf8string(true).get();
      r.body = json::parse(text, nullptr, false);
      if (r.body.is_discarded()) r.body = json();
      r.error = r.body.is_object() ? r.body.value("message", text) : text;
      return r;
    }
    auto body = resp.body();
    while (!stop.load()) {
      concurrency::streams::container_buffer<std::string> line;
      auto n = body.read_line(line).get();
      if (n == 0 && body.is_eof()) break;
      const auto& text = line.collection();
      if (text.empty()) continue;
      auto ev = json::parse(text, nullptr, false);
      if (ev.is_discarded()) {
        r.error = "watch: bad event line";
        break;
      }
      if (!on_event(ev)) break;
    }
  } catch (const std::exception& e) {
    r.error = std::string("watch ") + path + ": " + e.what();
  }
  return r;
}

}  // namespace millrace::op
