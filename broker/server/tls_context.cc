#include "broker/server/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstring>

namespace millrace::broker {

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

std::timespec mtime_of(const std::string& path) {
  struct stat st{};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return st.st_mtim;
}

bool same(const std::vector<std::timespec>& a, const std::vector<std::timespec>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].tv_sec != b[i].tv_sec || a[i].tv_nsec != b[i].tv_nsec) return false;
  return true;
}

}  // namespace

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

std::variant<SslCtxPtr, std::string> TlsContext::build(const TlsSettings& s) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!ctx) return "SSL_CTX_new: " + openssl_errors();
  SSL_CTX* c = ctx.get();
  const bool v12 = std::find(s.protocols.begin(), s.protocols.end(), "TLSv1.2") != s.protocols.end();
  const bool v13 = std::find(s.protocols.begin(), s.protocols.end(), "TLSv1.3") != s.protocols.end();
  SSL_CTX_set_min_proto_version(c, v12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(c, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;
#ifdef SSL_OP_ENABLE_KTLS
  options |= SSL_OP_ENABLE_KTLS;
#endif
  SSL_CTX_set_options(c, options);
  SSL_CTX_set_mode(c, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!s.cipher_suites.empty()) {
    std::string list;
    for (const auto& cs : s.cipher_suites) list += (list.empty() ? "" : ":") + cs;
    if (SSL_CTX_set_cipher_list(c, list.c_str()) != 1) return "ssl.cipher.suites '" + list + "': " + openssl_errors();
  }
  // The certificate chain and its key.
  auto* pw = const_cast<std::string*>(&s.key_password);
  SSL_CTX_set_default_passwd_cb(c, password_cb);
  SSL_CTX_set_default_passwd_cb_userdata(c, pw);
  if (!s.keystore_location.empty()) {
    if (SSL_CTX_use_certificate_chain_file(c, s.keystore_location.c_str()) != 1)
      return "ssl.keystore.location " + s.keystore_location + ": no certificate chain: " + openssl_errors();
    if (SSL_CTX_use_PrivateKey_file(c, s.keystore_location.c_str(), SSL_FILETYPE_PEM) != 1)
      return "ssl.keystore.location " + s.keystore_location + ": no private key (or a wrong ssl.key.password): " +
             openssl_errors();
  } else {
    auto chain = mem_bio(s.certificate_chain);
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
    auto key_bio = mem_bio(s.private_key);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, password_cb, pw);
    if (!key) return "ssl.keystore.key: not a PEM private key (or a wrong ssl.key.password): " + openssl_errors();
    const int ok = SSL_CTX_use_PrivateKey(c, key);
    EVP_PKEY_free(key);
    if (ok != 1) return "ssl.keystore.key: " + openssl_errors();
  }
  if (SSL_CTX_check_private_key(c) != 1) return "the private key does not match the certificate: " + openssl_errors();
  // Trusted CAs for client certificates.
  if (!s.truststore_location.empty() &&
      SSL_CTX_load_verify_locations(c, s.truststore_location.c_str(), nullptr) != 1)
    return "ssl.truststore.location " + s.truststore_location + ": " + openssl_errors();
  if (!s.truststore_certificates.empty()) {
    auto bio = mem_bio(s.truststore_certificates);
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
  int mode = SSL_VERIFY_NONE;
  if (s.client_auth == "required") mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  if (s.client_auth == "requested") mode = SSL_VERIFY_PEER;
  SSL_CTX_set_verify(c, mode, nullptr);
  static const unsigned char kSessionContext[] = "millrace";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_default_passwd_cb_userdata(c, nullptr);  // `s` may not outlive the context
  return ctx;
}

std::variant<std::shared_ptr<TlsContext>, std::string> TlsContext::create(std::string listener, TlsSettings settings) {
  auto rules = parse_principal_rules(settings.principal_rules);
  if (!rules.error.empty()) return "listener " + listener + ": ssl.principal.mapping.rules: " + rules.error;
  auto built = build(settings);
  if (auto* err = std::get_if<std::string>(&built)) return "listener " + listener + ": " + *err;
  std::shared_ptr<TlsContext> out(
      new TlsContext(std::move(listener), std::move(settings), std::get<SslCtxPtr>(built), std::move(rules.rules)));
  return out;
}

TlsContext::TlsContext(std::string listener, TlsSettings settings, SslCtxPtr ctx, std::vector<PrincipalRule> rules)
    : listener_(std::move(listener)), settings_(std::move(settings)), rules_(std::move(rules)), ctx_(std::move(ctx)) {
  stamps_ = stamps();
  checked_ = std::chrono::steady_clock::now();
}

std::vector<std::timespec> TlsContext::stamps() const {
  return {mtime_of(settings_.keystore_location), mtime_of(settings_.truststore_location)};
}

SslCtxPtr TlsContext::current() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_ < std::chrono::seconds(1)) return ctx_;
  checked_ = now;
  auto st = stamps();
  if (same(st, stamps_)) return ctx_;
  auto built = build(settings_);
  if (auto* err = std::get_if<std::string>(&built)) {
    // A file caught half-written: keep serving the last good one, try again later.
    spdlog::warn("event=tls_reload_failed listener={} error=\"{}\"", listener_, *err);
    return ctx_;
  }
  stamps_ = std::move(st);
  ctx_ = std::get<SslCtxPtr>(built);
  ++reloads_;
  spdlog::info("event=tls_reloaded listener={} reloads={}", listener_, reloads_);
  return ctx_;
}

std::optional<std::string> TlsContext::principal_name(const std::string& subject) const {
  return map_principal(rules_, subject);
}

}  // namespace millrace::broker
