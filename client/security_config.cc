#include "client/security_config.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "security/sasl/jaas.h"

namespace millrace::client {

namespace {

namespace sasl = security::sasl;

constexpr std::string_view kKeys[] = {
    "security.protocol",
    "ssl.truststore.location",
    "ssl.truststore.certificates",
    "ssl.truststore.type",
    "ssl.truststore.password",
    "ssl.keystore.location",
    "ssl.keystore.certificate.chain",
    "ssl.keystore.key",
    "ssl.keystore.type",
    "ssl.keystore.password",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
    "ssl.enabled.protocols",
    "ssl.protocol",
    "sasl.mechanism",
    "sasl.jaas.config",
    "sasl.username",
    "sasl.password",
};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

Error bad(const std::string& what) { return {errc::kInvalidClientConfig, what}; }

std::string get(const std::map<std::string, std::string>& props, const std::string& key) {
  auto it = props.find(key);
  return it == props.end() ? std::string() : trim(it->second);
}

// The username and password of sasl.jaas.config, checked against the mechanism.
Status read_jaas(const std::string& text, SaslConfig& out) {
  auto parsed = sasl::parse_jaas(text);
  if (!parsed.ok()) return bad(parsed.error().message);
  if (parsed->size() != 1)
    return bad("sasl.jaas.config: one login module expected, got " + std::to_string(parsed->size()));
  const auto& m = parsed->front();
  const bool plain = out.mechanism == "PLAIN";
  const std::string_view want = plain ? sasl::kPlainLoginModule : sasl::kScramLoginModule;
  if (m.login_module != want)
    return bad("sasl.jaas.config: sasl.mechanism " + out.mechanism + " takes " + std::string(want) + ", not " +
               m.login_module);
  for (const auto& [key, value] : m.options) {
    if (key == "username") out.username = value;
    else if (key == "password") out.password = value;
    else if (key == "tokenauth" && value != "false")
      return bad("sasl.jaas.config: tokenauth (delegation tokens) is not supported");
  }
  if (out.username.empty()) return bad("sasl.jaas.config: " + m.login_module + " has no username=\"...\"");
  if (out.password.empty()) return bad("sasl.jaas.config: " + m.login_module + " has no password=\"...\"");
  return Error::none();
}

Status read_tls(const std::map<std::string, std::string>& props, TlsConfig& t) {
  for (const char* key : {"ssl.truststore.type", "ssl.keystore.type"}) {
    auto type = upper(get(props, key));
    if (!type.empty() && type != "PEM")
      return bad(std::string(key) + "=" + type + ": only PEM is supported (convert the store with openssl)");
  }
  t.truststore_location = get(props, "ssl.truststore.location");
  t.truststore_certificates = get(props, "ssl.truststore.certificates");
  t.keystore_location = get(props, "ssl.keystore.location");
  t.keystore_certificate_chain = get(props, "ssl.keystore.certificate.chain");
  t.keystore_key = get(props, "ssl.keystore.key");
  t.key_password = get(props, "ssl.key.password");
  if (!t.keystore_location.empty() && (!t.keystore_certificate_chain.empty() || !t.keystore_key.empty()))
    return bad("ssl.keystore.location and ssl.keystore.certificate.chain/ssl.keystore.key are both set; give one");
  if (t.keystore_certificate_chain.empty() != t.keystore_key.empty())
    return bad(t.keystore_key.empty() ? "ssl.keystore.certificate.chain is set without ssl.keystore.key"
                                      : "ssl.keystore.key is set without ssl.keystore.certificate.chain");
  auto algorithm = get(props, "ssl.endpoint.identification.algorithm");
  if (props.count("ssl.endpoint.identification.algorithm") && algorithm.empty()) t.verify_hostname = false;
  else if (!algorithm.empty() && upper(algorithm) != "HTTPS")
    return bad("ssl.endpoint.identification.algorithm=" + algorithm + ": expected https, or empty to turn hostname "
               "verification off");
  if (auto protocols = get(props, "ssl.enabled.protocols"); !protocols.empty()) {
    t.tls12 = t.tls13 = false;
    std::stringstream ss(protocols);
    std::string p;
    while (std::getline(ss, p, ',')) {
      p = trim(p);
      if (p == "TLSv1.2") t.tls12 = true;
      else if (p == "TLSv1.3") t.tls13 = true;
      else if (!p.empty())
        return bad("ssl.enabled.protocols: " + p + " is not supported (TLSv1.2, TLSv1.3)");
    }
    if (!t.tls12 && !t.tls13) return bad("ssl.enabled.protocols: no protocol");
  }
  return Error::none();
}

Status read_sasl(const std::map<std::string, std::string>& props, SaslConfig& s) {
  s.mechanism = upper(get(props, "sasl.mechanism"));
  if (s.mechanism.empty())
    return bad("sasl.mechanism is not set (Kafka's default GSSAPI is not supported: use PLAIN, SCRAM-SHA-256 or "
               "SCRAM-SHA-512)");
  if (s.mechanism != "PLAIN" && s.mechanism != "SCRAM-SHA-256" && s.mechanism != "SCRAM-SHA-512")
    return bad("sasl.mechanism=" + s.mechanism + " is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)");
  const auto jaas = get(props, "sasl.jaas.config");
  const auto user = props.count("sasl.username") ? props.at("sasl.username") : std::string();
  const auto password = props.count("sasl.password") ? props.at("sasl.password") : std::string();
  if (!jaas.empty() && (!user.empty() || !password.empty()))
    return bad("sasl.jaas.config and sasl.username/sasl.password are both set; give one");
  if (!jaas.empty()) return read_jaas(jaas, s);
  if (user.empty() && password.empty())
    return bad("SASL needs credentials: sasl.jaas.config (" + std::string(s.mechanism == "PLAIN" ? "PlainLoginModule"
                                                                                                  : "ScramLoginModule") +
               " required username=\"...\" password=\"...\";) or sasl.username and sasl.password");
  if (user.empty()) return bad("sasl.password is set without sasl.username");
  if (password.empty()) return bad("sasl.username is set without sasl.password");
  s.username = user;
  s.password = password;
  return Error::none();
}

}  // namespace

bool is_security_key(std::string_view key) {
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

Result<SecurityConfig> parse_security_config(const std::map<std::string, std::string>& props) {
  SecurityConfig out;
  const auto protocol = upper(get(props, "security.protocol"));
  auto parsed = protocol.empty() ? std::optional(SecurityProtocol::kPlaintext) : security::parse_protocol(protocol);
  if (!parsed) return bad("security.protocol=" + protocol + ": expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL");
  out.protocol = *parsed;
  if (uses_tls(out.protocol))
    if (auto st = read_tls(props, out.tls); !st.ok()) return st;
  if (uses_sasl(out.protocol))
    if (auto st = read_sasl(props, out.sasl); !st.ok()) return st;
  return out;
}

}  // namespace millrace::client
