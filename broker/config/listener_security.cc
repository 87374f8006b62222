#include "broker/config/listener_security.h"

#include <strings.h>

#include <algorithm>

#include "broker/config/node_roles.h"
#include "security/sasl/jaas.h"

namespace millrace::broker {

namespace {

using security::parse_protocol;

bool is_controller(const Config& c, std::string_view name) {
  for (const auto& n : c.list("controller.listener.names"))
    if (n.size() == name.size() && strncasecmp(n.c_str(), name.data(), name.size()) == 0) return true;
  return false;
}

std::vector<std::string> items(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> jaas_plain_users(std::string_view jaas) {
  std::map<std::string, std::string> out;
  auto modules = security::sasl::parse_jaas(jaas);   // the same reader as the client's
  if (!modules.ok()) return out;
  for (const auto& m : modules.value())
    for (const auto& [key, value] : m.options)
      if (key.size() > 5 && key.starts_with("user_")) out[key.substr(5)] = value;
  return out;
}

std::optional<SecurityProtocol> listener_protocol(const Config& config, std::string_view listener) {
  for (const auto& entry : config.list("listener.security.protocol.map")) {
    auto colon = entry.find(':');
    if (colon == std::string::npos) continue;
    std::string_view name(entry.data(), colon);
    if (name.size() == listener.size() && strncasecmp(name.data(), listener.data(), name.size()) == 0)
      return parse_protocol(std::string_view(entry).substr(colon + 1));
  }
  if (is_controller(config, listener)) return SecurityProtocol::kPlaintext;
  return std::nullopt;
}

ListenerSecurityParse parse_listener_security(const Config& config) {
  ListenerSecurityParse out;
  auto& errors = out.errors;
  const auto roles = parse_node_roles(config).roles;
  for (auto& l : parse_listeners(config.string("listeners"), "").listeners) {
    ListenerSecurity ls;
    auto protocol = listener_protocol(config, l.name);
    if (!protocol) {
      errors.push_back("listener.security.protocol.map: no entry for listener " + l.name +
                       " (add " + l.name + ":PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)");
      continue;
    }
    ls.protocol = *protocol;
    const std::string& name = l.name;
    const std::string where = "listener " + name + " (" + std::string(protocol_name(ls.protocol)) + ")";
    if (is_controller(config, name) && ls.protocol != SecurityProtocol::kPlaintext)
      errors.push_back("listener.security.protocol.map: " + where +
                       " is a controller listener; controller listeners are PLAINTEXT only so far");
    if (!roles.inter_broker_listener.empty() && strcasecmp(roles.inter_broker_listener.c_str(), name.c_str()) == 0 &&
        ls.protocol != SecurityProtocol::kPlaintext)
      errors.push_back("inter.broker.listener.name: " + where +
                       " is not PLAINTEXT; brokers reach each other over PLAINTEXT only so far");
    if (uses_tls(ls.protocol)) {
      auto& t = ls.tls;
      t.keystore_location = config.listener_string(name, "ssl.keystore.location");
      t.certificate_chain = config.listener_string(name, "ssl.keystore.certificate.chain");
      t.private_key = config.listener_string(name, "ssl.keystore.key");
      t.key_password = config.listener_string(name, "ssl.key.password");
      t.truststore_location = config.listener_string(name, "ssl.truststore.location");
      t.truststore_certificates = config.listener_string(name, "ssl.truststore.certificates");
      t.client_auth = config.listener_string(name, "ssl.client.auth");
      t.protocols = items(config.listener_string(name, "ssl.enabled.protocols"));
      t.cipher_suites = items(config.listener_string(name, "ssl.cipher.suites"));
      t.principal_rules = config.listener_string(name, "ssl.principal.mapping.rules");
      const bool inline_pair = !t.certificate_chain.empty() || !t.private_key.empty();
      if (inline_pair && !t.keystore_location.empty())
        errors.push_back(where + ": set ssl.keystore.location or ssl.keystore.certificate.chain with "
                                 "ssl.keystore.key, not both");
      else if (inline_pair && (t.certificate_chain.empty() || t.private_key.empty()))
        errors.push_back(where + ": ssl.keystore.certificate.chain and ssl.keystore.key go together");
      else if (!inline_pair && t.keystore_location.empty())
        errors.push_back(where + ": needs its certificate and key: set ssl.keystore.location (a PEM file of the "
                                 "key and its chain), or ssl.keystore.certificate.chain and ssl.keystore.key");
      if (t.client_auth != "none" && t.truststore_location.empty() && t.truststore_certificates.empty())
        errors.push_back(where + ": ssl.client.auth=" + t.client_auth +
                         " needs the CAs client certificates are checked against: set ssl.truststore.location or "
                         "ssl.truststore.certificates");
    }
    if (uses_sasl(ls.protocol)) {
      auto& s = ls.sasl;
      s.mechanisms = items(config.listener_string(name, "sasl.enabled.mechanisms"));
      s.reauth_ms = std::stoll(config.listener_string(name, "connections.max.reauth.ms"));
      if (s.mechanisms.empty())
        errors.push_back("sasl.enabled.mechanisms: " + where + " needs at least one of PLAIN, SCRAM-SHA-256, "
                                                                "SCRAM-SHA-512");
      for (const auto& m : s.mechanisms)
        if (m != "PLAIN" && m != "SCRAM-SHA-256" && m != "SCRAM-SHA-512")
          errors.push_back("sasl.enabled.mechanisms: " + m + " (" + where +
                           ") is not served; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
      if (std::find(s.mechanisms.begin(), s.mechanisms.end(), "PLAIN") != s.mechanisms.end()) {
        s.plain_users = jaas_plain_users(config.listener_jaas(name, "PLAIN"));
        if (s.plain_users.empty())
          errors.push_back("listener.name." + [&] {
            std::string lower = name;
            for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return lower;
          }() + ".plain.sasl.jaas.config: " + where + " enables PLAIN but its JAAS text names no user_<name>=\"...\"");
      }
    }
    ls.listener = std::move(l);
    out.listeners.push_back(std::move(ls));
  }
  return out;
}

}  // namespace millrace::broker
