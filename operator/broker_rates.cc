#include "operator/broker_rates.h"

#include <cpprest/http_client.h>

#include <algorithm>
#include <thread>

#include "operator/conditions.h"
#include "operator/render.h"

namespace millrace::op {

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t ms(std::chrono::milliseconds d) { return d.count(); }

}  // namespace

std::string admin_address(const json& pod, const MillraceSpec& spec, KafkaAddressing addressing) {
  const json& md = pod["metadata"];
  if (addressing == KafkaAddressing::kService)
    return md.value("name", "") + "." + spec.name + "-brokers." + spec.namespace_ + ".svc:" +
           std::to_string(spec.admin_port);
  const std::string ip = pod.value("status", json::object()).value("podIP", "");
  if (ip.empty()) return "";
  return ip + ":" + md.value("annotations", json::object()).value("millrace.io/admin-port", std::to_string(spec.admin_port));
}

BrokerRates::Result BrokerRates::sample(const json& millrace) {
  const MillraceSpec spec = parse_millrace(millrace);
  std::vector<std::pair<std::string, std::string>> brokers;  // pod, address
  for (const json& pod : pods_.list()) {
    const json& md = pod["metadata"];
    if (md.value("namespace", "") != spec.namespace_) continue;
    if (md.value("labels", json::object()).value(kInstanceLabel, "") != spec.name) continue;
    const json ready = find_condition(pod.value("status", json::object()).value("conditions", json::array()), "Ready");
    if (ready.is_null() || ready.value("status", "") != "True" || !md.value("deletionTimestamp", "").empty()) continue;
    if (auto address = admin_address(pod, spec, addressing_); !address.empty())
      brokers.emplace_back(md.value("name", ""), address);
  }
  std::sort(brokers.begin(), brokers.end());

  Result out;
  std::lock_guard lk(mu_);
  auto warn = [&](const std::string& pod, const std::string& address, const std::string& why) {
    out.warnings.push_back("pod " + pod + " (" + address + "): /metrics: " + why + "; its partitions' rates left out");
  };
  std::vector<std::pair<std::string, std::string>> again;  // need a second sample
  for (const auto& [pod, address] : brokers) {
    Entry& e = cache_[address];
    const int64_t now = steady_ms();
    if (e.last && e.rates && now - e.last->at_ms < ms(kMinGap)) {
      out.rates.push_back(*e.rates);
      continue;
    }
    std::string error;
    auto s = scrape(address, &error);
    if (!s) {
      warn(pod, address, error);
      continue;
    }
    const bool usable = e.last && s->at_ms - e.last->at_ms >= ms(kMinGap) && s->at_ms - e.last->at_ms <= ms(kMaxAge);
    if (usable) {
      e.rates = rebalance::rates_between(*e.last, *s);
      out.rates.push_back(*e.rates);
    } else {
      again.emplace_back(pod, address);
    }
    e.last = std::move(*s);
  }
  if (again.empty()) return out;
  std::this_thread::sleep_for(kSecondSample);
  for (const auto& [pod, address] : again) {
    Entry& e = cache_[address];
    std::string error;
    auto s = scrape(address, &error);
    if (!s) {
      warn(pod, address, error);
      continue;
    }
    e.rates = rebalance::rates_between(*e.last, *s);
    out.rates.push_back(*e.rates);
    e.last = std::move(*s);
  }
  return out;
}

std::optional<rebalance::CounterSample> BrokerRates::scrape(const std::string& address, std::string* error) {
  namespace hc = web::http::client;
  try {
    hc::http_client_config cfg;
    cfg.set_timeout(kTimeout);
    hc::http_client client(web::uri("http://" + address), cfg);
    auto resp = client.request(web::http::methods::GET, "/metrics").get();
    if (resp.status_code() != web::http::status_codes::OK) {
      *error = "HTTP " + std::to_string(resp.status_code());
      return std::nullopt;
    }
    const std::string text = resp.extract_utf8string(true).get();
    rebalance::ParsedCounters parsed = rebalance::parse_partition_counters(text);
    if (!parsed.ok()) {
      *error = parsed.error;
      return std::nullopt;
    }
    return rebalance::CounterSample{steady_ms(), std::move(parsed.counters)};
  } catch (const std::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
}

}  // namespace millrace::op
