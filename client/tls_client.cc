#include "client/tls_client.h"

#include <openssl/err.h>

namespace millrace::client {

namespace tls = security::tls;

Result<tls::SslCtxPtr> build_client_tls_context(const TlsConfig& c) {
  ERR_clear_error();
  tls::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
  if (!ctx) return Error{errc::kInvalidClientConfig, "SSL_CTX_new: " + tls::openssl_errors()};
  SSL_CTX* x = ctx.get();
  SSL_CTX_set_min_proto_version(x, c.tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(x, c.tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(x, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(x, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (c.truststore_location.empty() && c.truststore_certificates.empty()) {
    if (SSL_CTX_set_default_verify_paths(x) != 1)
      return Error{errc::kInvalidClientConfig, "no ssl.truststore.location or ssl.truststore.certificates, and the "
                                               "system's CAs cannot be loaded: " + tls::openssl_errors()};
  } else if (auto error = tls::add_truststore(x, c.truststore_location, c.truststore_certificates); !error.empty()) {
    return Error{errc::kInvalidClientConfig, error};
  }
  tls::KeyStore ks{c.keystore_location, c.keystore_certificate_chain, c.keystore_key, c.key_password};
  if (!ks.empty())
    if (auto error = tls::use_keystore(x, ks); !error.empty()) return Error{errc::kInvalidClientConfig, error};
  SSL_CTX_set_verify(x, SSL_VERIFY_PEER, nullptr);
  return ctx;
}

}  // namespace millrace::client
