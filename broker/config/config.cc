#include "broker/config/config.h"

#include <strings.h>

#include <yaml-cpp/yaml.h>

#include <cassert>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace millrace::broker {

namespace {

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "false" || s == "FALSE" || s == "False") return false;
  return std::nullopt;
}

std::string allowed_list(std::string_view allowed) {
  std::string out;
  for (char c : allowed) out += (c == '|') ? std::string(", ") : std::string(1, c);
  return out;
}

bool in_allowed(std::string_view allowed, std::string_view value) {
  while (!allowed.empty()) {
    auto bar = allowed.find('|');
    if (allowed.substr(0, bar) == value) return true;
    if (bar == std::string_view::npos) break;
    allowed.remove_prefix(bar + 1);
  }
  return false;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    std::string item(s.substr(0, comma));
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.erase(0, 1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::optional<std::string> check_value(const ConfigKey& key, std::string_view value) {
  switch (key.type) {
    case ConfigType::kInt:
    case ConfigType::kLong: {
      auto v = parse_int(value);
      if (!v) return "'" + std::string(value) + "' is not an integer";
      if (*v < key.min || *v > key.max)
        return "'" + std::string(value) + "' is out of range; allowed " + std::to_string(key.min) + ".." +
               std::to_string(key.max);
      break;
    }
    case ConfigType::kBool:
      if (!parse_bool(value)) return "'" + std::string(value) + "' is not a boolean; allowed true, false";
      break;
    case ConfigType::kDouble: {
      char* end = nullptr;
      std::string s(value);
      std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) return "'" + s + "' is not a number";
      break;
    }
    case ConfigType::kString:
      if (!key.allowed.empty() && !in_allowed(key.allowed, value))
        return "'" + std::string(value) + "' is not allowed; allowed " + allowed_list(key.allowed);
      break;
    case ConfigType::kList:
      break;
  }
  if (key.validator) return key.validator(value);
  return std::nullopt;
}

std::string env_var_name(std::string_view key) {
  std::string out = "MILLRACE_";
  for (char c : key) out += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

struct ConfigBuilder {
  static ConfigLoad build(std::string_view yaml_text, std::string_view origin,
                          const std::vector<std::string>& sets, EnvLookup env) {
    ConfigLoad out;
    Config cfg;
    for (const auto& k : config_schema()) cfg.values_[std::string(k.name)] = std::string(k.default_value);

    auto put = [&](std::string_view key, std::string value, std::string_view where) {
      const ConfigKey* row = find_config_key(key);
      if (!row) {
        // listener.name.<listener>.<key>: kept under its full name (Config::listener_string).
        if (auto lk = find_listener_key(key)) {
          if (auto err = check_value(*lk->row, value)) {
            out.errors.push_back(std::string(where) + ": bad value for '" + std::string(key) + "' (" +
                                 std::string(type_name(lk->row->type)) + "): " + *err);
            return;
          }
          cfg.values_[std::string(key)] = std::move(value);
          return;
        }
        out.errors.push_back(std::string(where) + ": unknown config key '" + std::string(key) +
                             "' (see `millrace-broker --print-config-docs` for the allowed keys)");
        return;
      }
      if (auto err = check_value(*row, value)) {
        out.errors.push_back(std::string(where) + ": bad value for '" + std::string(key) + "' (" +
                             std::string(type_name(row->type)) + "): " + *err);
        return;
      }
      cfg.values_[std::string(key)] = std::move(value);
    };

    if (!yaml_text.empty()) {
      YAML::Node root;
      try {
        root = YAML::Load(std::string(yaml_text));
      } catch (const YAML::Exception& e) {
        out.errors.push_back(std::string(origin) + ": not valid YAML: " + e.what());
        return out;
      }
      if (root.IsDefined() && !root.IsNull()) {
        if (!root.IsMap()) {
          out.errors.push_back(std::string(origin) + ": top level must be a map of key: value");
          return out;
        }
        for (const auto& kv : root) {
          std::string key = kv.first.Scalar();
          std::string value;
          if (kv.second.IsScalar()) {
            value = kv.second.Scalar();
          } else if (kv.second.IsSequence()) {
            for (const auto& item : kv.second) {
              if (!item.IsScalar()) {
                out.errors.push_back(std::string(origin) + ": '" + key + "' must be a scalar or a list of scalars");
                break;
              }
              if (!value.empty()) value += ",";
              value += item.Scalar();
            }
          } else if (kv.second.IsNull()) {
            value = "";
          } else {
            out.errors.push_back(std::string(origin) + ": '" + key + "' must be a scalar or a list of scalars");
            continue;
          }
          put(key, std::move(value), origin);
        }
      }
    }

    if (env) {
      for (const auto& k : config_schema()) {
        std::string var = env_var_name(k.name);
        if (const char* v = env(var.c_str())) put(k.name, v, "environment " + var);
      }
    }

    for (const auto& s : sets) {
      auto eq = s.find('=');
      if (eq == std::string::npos) {
        out.errors.push_back("--set '" + s + "': expected key=value");
        continue;
      }
      put(s.substr(0, eq), s.substr(eq + 1), "--set");
    }

    if (out.errors.empty()) out.config = std::move(cfg);
    return out;
  }
};

std::vector<std::string> resolve_set_files(const std::vector<std::string>& set_files, FileReader read,
                                           std::vector<std::string>& sets) {
  std::vector<std::string> errors;
  for (const auto& s : set_files) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
      errors.push_back("--set-from-file '" + s + "': expected key=PATH");
      continue;
    }
    auto path = s.substr(eq + 1);
    auto text = read(path);
    if (!text) {
      errors.push_back("--set-from-file '" + s + "': cannot read " + path);
      continue;
    }
    auto first = text->find_first_not_of(" \t\r\n");
    auto last = text->find_last_not_of(" \t\r\n");
    std::string value = first == std::string::npos ? "" : text->substr(first, last - first + 1);
    if (value.empty()) {
      errors.push_back("--set-from-file '" + s + "': " + path + " is empty");
      continue;
    }
    sets.push_back(s.substr(0, eq) + "=" + value);
  }
  return errors;
}

ConfigLoad load_config(std::string_view yaml_text, std::string_view yaml_origin,
                       const std::vector<std::string>& sets, EnvLookup env) {
  return ConfigBuilder::build(yaml_text, yaml_origin, sets, env);
}

int64_t Config::integer(std::string_view name) const {
  auto it = values_.find(name);
  assert(it != values_.end());
  return parse_int(it->second).value_or(0);
}

bool Config::boolean(std::string_view name) const {
  auto it = values_.find(name);
  assert(it != values_.end());
  return parse_bool(it->second).value_or(false);
}

double Config::real(std::string_view name) const {
  auto it = values_.find(name);
  assert(it != values_.end());
  return std::strtod(it->second.c_str(), nullptr);
}

const std::string& Config::string(std::string_view name) const {
  auto it = values_.find(name);
  assert(it != values_.end());
  return it->second;
}

std::vector<std::string> Config::list(std::string_view name) const { return split_list(string(name)); }

namespace {

bool is_controller_listener(const Config& c, const std::string& name) {
  for (const auto& n : c.list("controller.listener.names"))
    if (strcasecmp(n.c_str(), name.c_str()) == 0) return true;
  return false;
}

std::vector<Listener> client_listeners(const Config& c, const std::string& text) {
  std::vector<Listener> out;
  for (auto& l : parse_listeners(text, "").listeners)
    if (!is_controller_listener(c, l.name)) out.push_back(std::move(l));
  return out;
}

}  // namespace

const std::string& Config::listener_string(std::string_view listener, std::string_view name) const {
  std::string lower(listener);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto it = values_.find("listener.name." + lower + "." + std::string(name)); it != values_.end()) return it->second;
  return string(name);
}

std::string Config::listener_jaas(std::string_view listener, std::string_view mechanism) const {
  std::string lower(listener), mech(mechanism);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : mech) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto it = values_.find("listener.name." + lower + "." + mech + ".sasl.jaas.config"); it != values_.end())
    return it->second;
  return listener_string(listener, "sasl.jaas.config");
}

std::vector<Listener> Config::listeners() const { return client_listeners(*this, string("listeners")); }

std::vector<Listener> Config::advertised_listeners() const {
  const auto& adv = string("advertised.listeners");
  if (adv.empty()) return listeners();
  return client_listeners(*this, adv);
}

std::optional<Listener> Config::controller_listener() const {
  for (auto& l : parse_listeners(string("listeners"), "").listeners)
    if (is_controller_listener(*this, l.name)) return std::move(l);
  return std::nullopt;
}

std::optional<Listener> Config::admin_listener() const {
  auto l = parse_listeners(string("admin.listeners"), "http").listeners;
  if (l.empty()) return std::nullopt;
  return l.front();
}

std::string config_docs_markdown() {
  std::string out = "| key | type | default | allowed | description |\n|---|---|---|---|---|\n";
  for (const auto& k : config_schema()) {
    std::string allowed;
    if (k.type == ConfigType::kInt || k.type == ConfigType::kLong)
      allowed = std::to_string(k.min) + ".." + std::to_string(k.max);
    else if (!k.allowed.empty())
      allowed = allowed_list(k.allowed);
    out += "| `" + std::string(k.name) + "` | " + std::string(type_name(k.type)) + " | `" +
           std::string(k.default_value) + "` | " + allowed + " | " + std::string(k.doc) + " |\n";
  }
  return out;
}

}  // namespace millrace::broker
