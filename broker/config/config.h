// Broker configuration: values for every key of config_schema(), merged from
// (lowest to highest precedence) schema defaults, a YAML file, environment
// variables MILLRACE_<KEY> (key upper-cased, '.' -> '_'), and --set key=value
// (--set-from-file key=PATH reads the value from a file first: the operator's
// per-pod node id, a ConfigMap key mounted as a file).
//
// Loading never throws: a ConfigLoad carries either a Config or the list of
// problems, each naming the key and what is allowed. A Config is immutable
// after loading and may be read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/config/config_schema.h"
#include "broker/config/listener.h"

namespace millrace::broker {

class Config {
 public:
  // REQUIRES: name is a key of config_schema() with the matching type.
  int64_t integer(std::string_view name) const;  // kInt and kLong
  bool boolean(std::string_view name) const;
  double real(std::string_view name) const;
  const std::string& string(std::string_view name) const;
  std::vector<std::string> list(std::string_view name) const;
  // An ssl.* or sasl.* key as `listener` sees it: listener.name.<listener>.<name>
  // (listener lower-cased, Kafka's form) when set, else <name>.
  const std::string& listener_string(std::string_view listener, std::string_view name) const;
  // The JAAS text of `mechanism` on `listener`: listener.name.<l>.<mechanism>.sasl.jaas.config,
  // else listener.name.<l>.sasl.jaas.config, else sasl.jaas.config.
  std::string listener_jaas(std::string_view listener, std::string_view mechanism) const;

  // Raw text of every key (after merging), for logging and DescribeConfigs.
  const std::map<std::string, std::string, std::less<>>& values() const { return values_; }

  // The client listeners (every one not named in controller.listener.names).
  std::vector<Listener> listeners() const;
  std::vector<Listener> advertised_listeners() const;
  // The listener controllers are reached on (the first of `listeners` named in
  // controller.listener.names), if any.
  std::optional<Listener> controller_listener() const;
  std::optional<Listener> admin_listener() const;

 private:
  friend struct ConfigBuilder;
  std::map<std::string, std::string, std::less<>> values_;
};

struct ConfigLoad {
  std::optional<Config> config;
  std::vector<std::string> errors;  // non-empty iff !config
};

// Environment lookup, injectable for tests (default: ::getenv).
using EnvLookup = const char* (*)(const char*);

// yaml_text: contents of the --config file (may be empty); sets: "key=value".
ConfigLoad load_config(std::string_view yaml_text, std::string_view yaml_origin,
                       const std::vector<std::string>& sets, EnvLookup env);

// Reads a file's text for --set-from-file; nullopt when it cannot be read.
using FileReader = std::optional<std::string> (*)(const std::string& path);

// Turns each "key=PATH" into "key=<the file's text, surrounding whitespace
// trimmed>", appended to `sets` (so it takes --set's precedence and checks).
// Returns the problems, each naming the argument; empty on success.
std::vector<std::string> resolve_set_files(const std::vector<std::string>& set_files, FileReader read,
                                           std::vector<std::string>& sets);

// Checks one raw value against its schema row; returns the message on error.
std::optional<std::string> check_value(const ConfigKey& key, std::string_view value);

// Name of the environment variable that overrides `key`.
std::string env_var_name(std::string_view key);

// Markdown table of the schema (name, type, default, allowed, doc).
std::string config_docs_markdown();

}  // namespace millrace::broker
