#include "security/tls/pem.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>

namespace millrace::security::tls {

namespace {

int password_cb(char* buf, int size, int, void* user) {
  const auto* pw = static_cast<const std::string*>(user);
  if (!pw || pw->empty()) return 0;
  const int n = std::min<int>(size, static_cast<int>(pw->size()));
  std::memcpy(buf, pw->data(), static_cast<size_t>(n));
  return n;
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

BioPtr mem_bio(const std::string& text) { return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free); }

std::string load_keystore(SSL_CTX* c, const KeyStore& ks) {
  if (!ks.location.empty()) {
    if (SSL_CTX_use_certificate_chain_file(c, ks.location.c_str()) != 1)
      return "ssl.keystore.location " + ks.location + ": no certificate chain: " + openssl_errors();
    if (SSL_CTX_use_PrivateKey_file(c, ks.location.c_str(), SSL_FILETYPE_PEM) != 1)
      return "ssl.keystore.location " + ks.location + ": no private key (or a wrong ssl.key.password): " +
             openssl_errors();
  } else {
    auto chain = mem_bio(ks.certificate_chain);
    X509* leaf = PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr);
    if (!leaf) return "ssl.keystore.certificate.chain: not a PEM certificate: " + openssl_errors();
    const int used = SSL_CTX_use_certificate(c, leaf);
    X509_free(leaf);
    if (used != 1) return "ssl.keystore.certificate.chain: " + openssl_errors();
    while (X509* extra = PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr)) {
      if (SSL_CTX_add0_chain_cert(c, extra) != 1) {
        X509_free(extra);
        return "ssl.keystore.certificate.chain: " + openssl_errors();
      }
    }
    ERR_clear_error();  // the end of the chain reads as an error
    auto key_bio = mem_bio(ks.key);
    auto* pw = const_cast<std::string*>(&ks.key_password);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, password_cb, pw);
    if (!key) return "ssl.keystore.key: not a PEM private key (or a wrong ssl.key.password): " + openssl_errors();
    const int ok = SSL_CTX_use_PrivateKey(c, key);
    EVP_PKEY_free(key);
    if (ok != 1) return "ssl.keystore.key: " + openssl_errors();
  }
  if (SSL_CTX_check_private_key(c) != 1) return "the private key does not match the certificate: " + openssl_errors();
  return {};
}

}  // namespace

std::string use_keystore(SSL_CTX* c, const KeyStore& ks) {
  ERR_clear_error();
  SSL_CTX_set_default_passwd_cb(c, password_cb);
  SSL_CTX_set_default_passwd_cb_userdata(c, const_cast<std::string*>(&ks.key_password));
  std::string error = load_keystore(c, ks);
  SSL_CTX_set_default_passwd_cb_userdata(c, nullptr);  // `ks` may not outlive the context
  return error;
}

std::string add_truststore(SSL_CTX* c, const std::string& location, const std::string& certificates) {
  ERR_clear_error();
  if (!location.empty() && SSL_CTX_load_verify_locations(c, location.c_str(), nullptr) != 1)
    return "ssl.truststore.location " + location + ": " + openssl_errors();
  if (!certificates.empty()) {
    auto bio = mem_bio(certificates);
    X509_STORE* store = SSL_CTX_get_cert_store(c);
    int n = 0;
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, ca);
      X509_free(ca);
      ++n;
    }
    ERR_clear_error();
    if (n == 0) return "ssl.truststore.certificates: no PEM certificate";
  }
  return {};
}

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

std::string subject_rfc2253(X509* cert) {
  if (!cert) return {};
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

}  // namespace millrace::security::tls
