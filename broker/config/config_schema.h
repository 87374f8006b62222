// The broker's configuration schema: one table, one row per key.
//
// Keys are Kafka's server.properties names. Each row gives the type, the
// default (as text, parsed like any user value), a validator and a one-line
// doc, so the table is the single source for parsing, error messages and
// generated documentation (`millrace-broker --print-config-docs`).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace millrace::broker {

enum class ConfigType { kInt, kLong, kBool, kString, kList, kDouble };

std::string_view type_name(ConfigType t);

// Returns an error message (without the key name) when a parsed value is not
// allowed, nullopt when it is. Validators see the raw text after type parsing
// succeeded.
using ConfigValidator = std::optional<std::string> (*)(std::string_view value);

struct ConfigKey {
  std::string_view name;
  ConfigType type;
  std::string_view default_value;
  int64_t min = INT64_MIN;          // numeric types only
  int64_t max = INT64_MAX;          // numeric types only
  std::string_view allowed;         // '|'-separated enum for strings; empty = any
  ConfigValidator validator = nullptr;
  std::string_view doc;
};

// All keys the broker accepts, in documentation order.
std::span<const ConfigKey> config_schema();
const ConfigKey* find_config_key(std::string_view name);
// A per-listener key, listener.name.<listener>.<key> (Kafka's form): the row of
// <key> (an ssl.* or sasl.* key, or <mechanism>.sasl.jaas.config read as
// sasl.jaas.config) and the listener name; nullopt when `name` is not one.
struct ListenerKey {
  std::string listener;
  const ConfigKey* row = nullptr;
};
std::optional<ListenerKey> find_listener_key(std::string_view name);

// Validators shared by several rows.
std::optional<std::string> validate_listeners(std::string_view value);
std::optional<std::string> validate_optional_listeners(std::string_view value);
std::optional<std::string> validate_http_listeners(std::string_view value);
std::optional<std::string> validate_log_dirs(std::string_view value);
std::optional<std::string> validate_queued_max_requests(std::string_view value);
std::optional<std::string> validate_queued_max_request_bytes(std::string_view value);
std::optional<std::string> validate_connection_overrides(std::string_view value);
// listener.security.protocol.map, ssl.enabled.protocols, ssl.principal.mapping.rules.
std::optional<std::string> validate_security_protocol_map(std::string_view value);
std::optional<std::string> validate_tls_protocols(std::string_view value);
std::optional<std::string> validate_principal_rules(std::string_view value);
// replica.selector.class: empty (leader only) or Kafka's rack-aware selector.
std::optional<std::string> validate_replica_selector(std::string_view value);
inline constexpr std::string_view kRackAwareReplicaSelector = "org.apache.kafka.common.replica.RackAwareReplicaSelector";

// max.connections.per.ip.overrides ("ip:count,ip:count") -> IP text -> count;
// nullopt when malformed. Addresses come back in inet_ntop's canonical form,
// which is how the server prints a peer's address.
std::optional<std::map<std::string, int64_t>> parse_connection_overrides(std::string_view value);

}  // namespace millrace::broker
