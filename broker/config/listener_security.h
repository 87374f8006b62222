// Each listener's security, by Kafka's keys: its protocol from
// listener.security.protocol.map (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; a
// controller listener not in the map is PLAINTEXT), its TLS settings (ssl.*)
// and its SASL settings (sasl.enabled.mechanisms, the PLAIN users of its JAAS
// text, connections.max.reauth.ms), each read per listener first
// (listener.name.<name>.<key>, Config::listener_string). parse_listener_security
// checks them together and names every problem with its key: a listener the
// map does not name, TLS without a certificate and key, a SASL mechanism not
// served, TLS or SASL where only PLAINTEXT is served yet (the controller and
// inter-broker listeners). Pure: files are read later (broker/server/tls_context.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/config.h"
#include "broker/config/listener.h"
#include "security/protocol.h"

namespace millrace::broker {

// Kafka's SecurityProtocol ids and names (BrokerRegistration's listeners carry them).
using security::protocol_name;
using security::SecurityProtocol;
using security::uses_sasl;
using security::uses_tls;

struct TlsSettings {
  std::string keystore_location;   // PEM: key and chain in one file
  std::string certificate_chain;   // inline PEM (ssl.keystore.certificate.chain)
  std::string private_key;         // inline PEM (ssl.keystore.key)
  std::string key_password;
  std::string truststore_location;
  std::string truststore_certificates;  // inline PEM
  std::string client_auth = "none";     // required | requested | none
  std::vector<std::string> protocols;   // TLSv1.2, TLSv1.3
  std::vector<std::string> cipher_suites;
  std::string principal_rules = "DEFAULT";
};

struct SaslSettings {
  std::vector<std::string> mechanisms;             // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  std::map<std::string, std::string> plain_users;  // PLAIN: user -> password (JAAS user_<name>="...")
  int64_t reauth_ms = 0;                           // connections.max.reauth.ms; 0: none
};

struct ListenerSecurity {
  Listener listener;
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  TlsSettings tls;    // when uses_tls(protocol)
  SaslSettings sasl;  // when uses_sasl(protocol)
};

struct ListenerSecurityParse {
  std::vector<ListenerSecurity> listeners;  // in `listeners` order, controller ones included
  std::vector<std::string> errors;          // each names the key
};

ListenerSecurityParse parse_listener_security(const Config& config);

// The users of a PLAIN JAAS text: every user_<name>="<password>" option
// (security/sasl/jaas.h reads the text); none when it is not JAAS.
std::map<std::string, std::string> jaas_plain_users(std::string_view jaas);

// The security protocol a listener name maps to; kPlaintext for a controller
// listener the map leaves out; nullopt when the map does not name it.
std::optional<SecurityProtocol> listener_protocol(const Config& config, std::string_view listener);

}  // namespace millrace::broker
