#include "operator/fault_injection.h"

#include <unistd.h>

#include <cstdio>

namespace millrace::op {

FaultParse parse_fault_plan(const std::string& text) {
  FaultParse out;
  if (text.empty()) return out;
  const std::string prefix = "exit-after-writes:";
  if (text.rfind(prefix, 0) != 0) {
    out.error = std::string(kFaultEnv) + "='" + text + "': expected exit-after-writes:N[:Millrace|Topic|Rebalance]";
    return out;
  }
  auto rest = text.substr(prefix.size());
  auto colon = rest.find(':');
  auto number = rest.substr(0, colon);
  int n = 0;
  bool digits = !number.empty() && number.size() <= 4;
  for (char c : number) digits = digits && c >= '0' && c <= '9';
  if (digits) n = std::stoi(number);
  if (!digits || n < 1 || n > 1000) {
    out.error = std::string(kFaultEnv) + "='" + text + "': N must be a number from 1 to 1000";
    return out;
  }
  std::string kind = colon == std::string::npos ? "" : rest.substr(colon + 1);
  if (colon != std::string::npos && kind != "Millrace" && kind != "Topic" && kind != "Rebalance") {
    out.error = std::string(kFaultEnv) + "='" + text + "': kind must be Millrace, Topic or Rebalance";
    return out;
  }
  out.plan = {n, kind};
  return out;
}

FaultInjector::FaultInjector(FaultPlan plan, std::function<void(const std::string&)> die)
    : plan_(std::move(plan)), die_(std::move(die)) {
  if (!die_)
    die_ = [](const std::string& why) {
      std::fprintf(stderr, "millrace-operator: fault injection: %s; exiting now (_exit %d)\n", why.c_str(),
                   kFaultExitCode);
      _exit(kFaultExitCode);
    };
}

FaultInjector::Scope::~Scope() {
  if (!f_) return;
  std::lock_guard lk(f_->mu_);
  f_->writes_.erase(t_);
}

FaultInjector::Scope FaultInjector::reconciling(const std::string& kind) {
  auto self = std::this_thread::get_id();
  if (!armed() || (!plan_.kind.empty() && plan_.kind != kind)) return Scope(nullptr, self);
  std::lock_guard lk(mu_);
  writes_[self] = 0;
  return Scope(this, self);
}

void FaultInjector::after_write(const std::string& verb, const std::string& resource) {
  if (!armed()) return;
  int n = 0;
  {
    std::lock_guard lk(mu_);
    auto it = writes_.find(std::this_thread::get_id());
    if (it == writes_.end()) return;
    n = ++it->second;
  }
  if (n == plan_.exit_after_writes)
    die_("write " + std::to_string(n) + " of a " + (plan_.kind.empty() ? "" : plan_.kind + " ") + "reconcile (" +
         verb + " " + resource + ")");
}

}  // namespace millrace::op
