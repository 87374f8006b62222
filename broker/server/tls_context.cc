#include "broker/server/tls_context.h"

#include <openssl/err.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>

namespace millrace::broker {

namespace {

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
  // The certificate chain and its key; the CAs client certificates are checked against.
  if (auto error = security::tls::use_keystore(
          c, {s.keystore_location, s.certificate_chain, s.private_key, s.key_password});
      !error.empty())
    return error;
  if (auto error = security::tls::add_truststore(c, s.truststore_location, s.truststore_certificates); !error.empty())
    return error;
  int mode = SSL_VERIFY_NONE;
  if (s.client_auth == "required") mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  if (s.client_auth == "requested") mode = SSL_VERIFY_PEER;
  SSL_CTX_set_verify(c, mode, nullptr);
  static const unsigned char kSessionContext[] = "millrace";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
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
