// A Millrace's spec.config checked against the broker's own configuration
// schema (broker/config/config_schema.h, the table `millrace-broker` parses
// with) before anything is applied: a key the broker does not know, or a value
// it would refuse, would otherwise reach the ConfigMap and stop every broker
// the rolling restart then restarts. Pure.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace millrace::op {

// One message per bad entry, each naming it: "spec.config.log.retention.hours:
// not a broker config key (...)". Empty when every entry is good.
std::vector<std::string> check_broker_config(const std::map<std::string, std::string>& config);

}  // namespace millrace::op
