// The OpenSSL context of a client's TLS connections (security.protocol SSL or
// SASL_SSL), built once per client from its TlsConfig (security_config.h):
// TLS 1.2/1.3 (ssl.enabled.protocols), the broker's chain checked against
// ssl.truststore.* (or the system's CAs when neither is set, as Java uses the
// JVM's), the client's own certificate for mTLS from ssl.keystore.* (PEM,
// security/tls/pem.h). The hostname check is per connection
// (security/tls/tls_stream.h's connect()). Renegotiation is off.
#pragma once

#include "client/result.h"
#include "client/security_config.h"
#include "security/tls/pem.h"

namespace millrace::client {

// The context, or INVALID_CLIENT_CONFIG naming the setting (a file that cannot
// be read, a key that does not match its certificate, no PEM certificate).
Result<security::tls::SslCtxPtr> build_client_tls_context(const TlsConfig& config);

}  // namespace millrace::client
