// What both ends of a TLS connection load into an OpenSSL context, by Kafka's
// keys, PEM only (ssl.keystore.type=PEM): the key pair a side presents (the
// broker's certificate, or a client's for mTLS) and the CAs it trusts. Shared
// by the broker's listener contexts (broker/server/tls_context.h) and the
// client's (client/tls_client.h). Every error is a value naming the key and,
// where it helps, OpenSSL's words; nothing here throws.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace millrace::security::tls {

using SslCtxPtr = std::shared_ptr<SSL_CTX>;

// ssl.keystore.location (one PEM file: the private key and its certificate
// chain), or inline ssl.keystore.certificate.chain with ssl.keystore.key; an
// encrypted key takes ssl.key.password.
struct KeyStore {
  std::string location;
  std::string certificate_chain;
  std::string key;
  std::string key_password;
  bool empty() const { return location.empty() && certificate_chain.empty() && key.empty(); }
};

// Loads the chain and key into ctx and checks that they belong together.
// "" on success, else why (naming the key).
std::string use_keystore(SSL_CTX* ctx, const KeyStore& keystore);

// Adds the CAs of a PEM file (ssl.truststore.location) and of inline PEM
// (ssl.truststore.certificates) to ctx's store; either may be empty.
// "" on success, else why (naming the key).
std::string add_truststore(SSL_CTX* ctx, const std::string& location, const std::string& certificates);

// OpenSSL's queued errors as one line (emptying the queue); "" when none.
std::string openssl_errors();
// A certificate's subject as Kafka prints it (X500Principal's RFC 2253 form).
std::string subject_rfc2253(X509* cert);

}  // namespace millrace::security::tls
