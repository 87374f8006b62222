// The OpenSSL context of one TLS listener (SSL or SASL_SSL), built from its
// TlsSettings (listener_security.h): the certificate chain and key (a PEM
// file, or inline PEM), the CAs client certificates are checked against,
// ssl.client.auth, the TLS versions and 1.2 cipher suites, and the principal
// mapping rules. A context whose files change is built again (checked at most
// once a second, when a connection is accepted): a rotated certificate is
// served to new connections without a restart, established ones keep theirs.
// A rebuild that fails (a half-written file) keeps the last good context and
// logs why. Kernel TLS (SSL_OP_ENABLE_KTLS) is asked for: where the kernel
// offers it, OpenSSL hands it the record layer after the handshake, and file
// ranges go by SSL_sendfile (security/tls/tls_stream.h). The PEM loading is
// shared with the client (security/tls/pem.h).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "broker/config/listener_security.h"
#include "broker/config/principal_rules.h"
#include "security/tls/pem.h"

namespace millrace::broker {

using security::tls::openssl_errors;
using security::tls::SslCtxPtr;
using security::tls::subject_rfc2253;

class TlsContext {
 public:
  // The context, or why it cannot be built (naming the setting or file).
  static std::variant<std::shared_ptr<TlsContext>, std::string> create(std::string listener, TlsSettings settings);

  // The context new connections use; first built again when a file changed.
  SslCtxPtr current();
  // The user name of a client certificate's subject (RFC 2253); nullopt when no rule applies.
  std::optional<std::string> principal_name(const std::string& subject) const;
  const std::string& listener() const { return listener_; }
  int64_t reloads() const { return reloads_; }

  // Builds an SSL_CTX from settings; the error names what failed.
  static std::variant<SslCtxPtr, std::string> build(const TlsSettings& settings);

 private:
  TlsContext(std::string listener, TlsSettings settings, SslCtxPtr ctx, std::vector<PrincipalRule> rules);
  std::vector<std::timespec> stamps() const;  // the files' modification times

  const std::string listener_;
  const TlsSettings settings_;
  const std::vector<PrincipalRule> rules_;
  std::mutex mu_;
  SslCtxPtr ctx_;                                   // GUARDED_BY(mu_)
  std::vector<std::timespec> stamps_;               // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point checked_;   // GUARDED_BY(mu_)
  int64_t reloads_ = 0;                             // GUARDED_BY(mu_)
};

}  // namespace millrace::broker
