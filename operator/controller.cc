#include "operator/controller.h"

#include <spdlog/spdlog.h>

namespace millrace::op {

Controller::~Controller() { stop(); }

void Controller::start(int workers) {
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
}

void Controller::stop() {
  queue_.shutdown();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

void Controller::work() {
  while (auto key = queue_.get()) {
    auto slash = key->find('/');
    auto ns = key->substr(0, slash), name = key->substr(slash + 1);
    auto t0 = std::chrono::steady_clock::now();
    ReconcileResult r;
    try {
      r = fn_(ns, name);
    } catch (const std::exception& e) {  // a bug, not an expected failure: keep the worker alive
      r = ReconcileResult::failed(std::string("unexpected exception: ") + e.what());
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics_.reconciled(kind_, r.error.empty(), secs);
    if (!r.error.empty()) {
      auto delay = queue_.add_rate_limited(*key);
      spdlog::warn("{} {}: {} (retry in {}ms)", kind_, *key, r.error, delay.count());
    } else {
      queue_.forget(*key);
      if (r.requeue_after) queue_.add_after(*key, *r.requeue_after);
    }
    queue_.done(*key);
  }
}

}  // namespace millrace::op
