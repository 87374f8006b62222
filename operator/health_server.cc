#include "operator/health_server.h"

#include <cpprest/http_listener.h>

#include "operator/operator_metrics.h"

namespace millrace::op {

namespace http = web::http;

struct HealthServer::Impl {
  std::string bind;
  const OperatorMetrics& metrics;
  std::function<ReadinessVerdict()> ready;
  std::unique_ptr<http::experimental::listener::http_listener> listener;
};

HealthServer::HealthServer(std::string bind, const OperatorMetrics& metrics, std::function<ReadinessVerdict()> ready)
    : impl_(new Impl{std::move(bind), metrics, std::move(ready), nullptr}) {}

HealthServer::~HealthServer() {
  if (impl_->listener) {
    try {
      impl_->listener->close().wait();
    } catch (...) {
    }
  }
}

std::string HealthServer::start() {
  try {
    impl_->listener = std::make_unique<http::experimental::listener::http_listener>("http://" + impl_->bind);
    auto* impl = impl_.get();
    impl_->listener->support(http::methods::GET, [impl](http::http_request req) {
      auto path = req.relative_uri().path();
      if (path == "/metrics") {
        req.reply(http::status_codes::OK, impl->metrics.text(), "text/plain; version=0.0.4");
      } else if (path == "/healthz") {
        req.reply(http::status_codes::OK, "ok\n", "text/plain");
      } else if (path == "/readyz") {
        auto v = impl->ready();
        req.reply(v.ready ? http::status_codes::OK : http::status_codes::ServiceUnavailable, v.detail + "\n",
                  "text/plain");
      } else {
        req.reply(http::status_codes::NotFound, "not found\n", "text/plain");
      }
    });
    impl_->listener->open().wait();
    return "";
  } catch (const std::exception& e) {
    return std::string("listen on ") + impl_->bind + ": " + e.what();
  }
}

}  // namespace millrace::op
