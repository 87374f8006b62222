#include "operator/broker_config_check.h"

#include "broker/config/config.h"
#include "broker/config/config_schema.h"

namespace millrace::op {

std::vector<std::string> check_broker_config(const std::map<std::string, std::string>& config) {
  std::vector<std::string> problems;
  for (const auto& [key, value] : config) {
    const auto* row = broker::find_config_key(key);
    if (!row) {
      problems.push_back("spec.config." + key +
                         ": not a broker config key (`millrace-broker --print-config-docs` lists them)");
      continue;
    }
    if (auto bad = broker::check_value(*row, value)) problems.push_back("spec.config." + key + ": " + *bad);
  }
  return problems;
}

}  // namespace millrace::op
