// How the client secures its connections, set by the Java client's property
// names so that a platform team's existing client properties work unchanged:
//
//   security.protocol                      PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
//   ssl.truststore.location                PEM file of the CAs the broker's certificate must chain to
//   ssl.truststore.certificates            the same, inline PEM (neither: the system's CAs)
//   ssl.truststore.type, ssl.keystore.type PEM only
//   ssl.keystore.location                  PEM file: the client's key and certificate chain (mTLS)
//   ssl.keystore.certificate.chain         the chain, inline PEM (with ssl.keystore.key)
//   ssl.keystore.key                       the key, inline PEM
//   ssl.key.password                       the key's password when it is encrypted
//   ssl.endpoint.identification.algorithm  https (default: the certificate must name the host
//                                          dialled) or empty (no hostname check; the chain
//                                          is still checked)
//   ssl.enabled.protocols                  TLSv1.2,TLSv1.3 (default)
//   sasl.mechanism                         PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (Kafka's default
//                                          GSSAPI is refused by name)
//   sasl.jaas.config                       PlainLoginModule / ScramLoginModule required
//                                          username="..." password="...";
//   sasl.username, sasl.password           librdkafka's names for the same, instead of JAAS
//
// parse_security_config checks them together and names the key of every
// problem (a file is read when the client starts: client/tls_client.h).
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "client/result.h"
#include "security/protocol.h"

namespace millrace::client {

using security::protocol_name;
using security::SecurityProtocol;
using security::uses_sasl;
using security::uses_tls;

struct TlsConfig {
  std::string truststore_location;
  std::string truststore_certificates;
  std::string keystore_location;
  std::string keystore_certificate_chain;
  std::string keystore_key;
  std::string key_password;
  bool verify_hostname = true;  // ssl.endpoint.identification.algorithm=https
  bool tls12 = true, tls13 = true;  // ssl.enabled.protocols
};

struct SaslConfig {
  std::string mechanism;  // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  std::string username;
  std::string password;
};

struct SecurityConfig {
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  TlsConfig tls;    // when uses_tls(protocol)
  SaslConfig sasl;  // when uses_sasl(protocol)
};

// The keys above (and no others: see is_security_key) into a SecurityConfig;
// INVALID_CLIENT_CONFIG naming the key when a value is wrong, a needed one is
// missing or two disagree (e.g. sasl.jaas.config's module and sasl.mechanism).
// Settings of a protocol not in use (ssl.* under SASL_PLAINTEXT) are ignored,
// as Java does.
Result<SecurityConfig> parse_security_config(const std::map<std::string, std::string>& props);

// Whether parse_security_config reads `key`.
bool is_security_key(std::string_view key);

}  // namespace millrace::client
