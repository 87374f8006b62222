// The client's secured connections against a small in-process broker: TLS
// (security/tls's server side), optionally mTLS, SASL PLAIN with a session
// lifetime (KIP-368: nothing but the SASL APIs is served once it has passed),
// ApiVersions and Metadata. Certificates are made here with OpenSSL: a CA, a
// broker certificate for IP:127.0.0.1 and DNS:localhost, a client certificate,
// and a second CA nobody trusts.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <thread>

#include "client/cluster.h"
#include "protocol/generated/api_keys.h"
#include "protocol/generated/api_versions_request.h"
#include "protocol/generated/api_versions_response.h"
#include "protocol/generated/metadata_request.h"
#include "protocol/generated/metadata_response.h"
#include "protocol/generated/response_header.h"
#include "protocol/generated/sasl_authenticate_request.h"
#include "protocol/generated/sasl_authenticate_response.h"
#include "protocol/generated/sasl_handshake_request.h"
#include "protocol/generated/sasl_handshake_response.h"
#include "protocol/request_frame.h"
#include "protocol/wire/writer.h"
#include "security/sasl/plain.h"
#include "security/tls/pem.h"
#include "security/tls/tls_stream.h"

namespace millrace::client {
namespace {

namespace tls = security::tls;
using asio::use_awaitable;

// --- certificates ---
struct KeyPair {
  std::string cert_pem, key_pem;
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

std::string pem_of(X509* c) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, c);
  char* d = nullptr;
  long n = BIO_get_mem_data(b, &d);
  std::string out(d, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

std::string pem_of(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* d = nullptr;
  long n = BIO_get_mem_data(b, &d);
  std::string out(d, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

// A certificate for `cn` signed by `issuer` (self-signed when null), with extensions.
KeyPair make_cert(const std::string& cn, const KeyPair* issuer, std::vector<std::pair<int, std::string>> exts) {
  static long serial = 1;
  KeyPair kp;
  kp.key = EVP_EC_gen("P-256");
  kp.cert = X509_new();
  X509_set_version(kp.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(kp.cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(kp.cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(kp.cert), 86400);
  X509_set_pubkey(kp.cert, kp.key);
  X509_NAME* name = X509_get_subject_name(kp.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(kp.cert, issuer ? X509_get_subject_name(issuer->cert) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer->cert : kp.cert, kp.cert, nullptr, nullptr, 0);
  for (auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(kp.cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(kp.cert, issuer ? issuer->key : kp.key, EVP_sha256());
  kp.cert_pem = pem_of(kp.cert);
  kp.key_pem = pem_of(kp.key);
  return kp;
}

struct Pki {
  KeyPair ca = make_cert("Test CA", nullptr, {{NID_basic_constraints, "critical,CA:TRUE"},
                                              {NID_key_usage, "critical,keyCertSign,cRLSign"}});
  KeyPair rogue = make_cert("Rogue CA", nullptr, {{NID_basic_constraints, "critical,CA:TRUE"},
                                                  {NID_key_usage, "critical,keyCertSign,cRLSign"}});
  KeyPair broker = make_cert("localhost", &ca, {{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                                                {NID_ext_key_usage, "serverAuth"}});
  KeyPair alice = make_cert("alice", &ca, {{NID_ext_key_usage, "clientAuth"}});
  KeyPair mallory = make_cert("mallory", &rogue, {{NID_ext_key_usage, "clientAuth"}});
};

const Pki& pki() {
  static const Pki p;
  return p;
}

// --- the in-process broker ---
struct FakeOptions {
  bool tls = true;
  bool require_client_cert = false;
  bool sasl = false;
  int64_t session_lifetime_ms = 0;
  bool silent = false;   // accepts, never answers (not even the TLS handshake)
};

class FakeBroker {
 public:
  explicit FakeBroker(FakeOptions o) : opts_(o), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    if (o.tls) {
      ctx_.reset(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
      EXPECT_EQ(tls::use_keystore(ctx_.get(), {"", pki().broker.cert_pem + pki().ca.cert_pem, pki().broker.key_pem, ""}), "");
      SSL_CTX_set_options(ctx_.get(), SSL_OP_NO_RENEGOTIATION);
      if (o.require_client_cert) {
        EXPECT_EQ(tls::add_truststore(ctx_.get(), "", pki().ca.cert_pem), "");
        SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      }
    }
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeBroker() {
    io_.stop();
    thread_.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_; }
  int authentications() const { return authentications_; }
  int refused_after_expiry() const { return refused_after_expiry_; }

 private:
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    std::unique_ptr<tls::TlsStream> tls;
    bool authenticated = false;
    std::chrono::steady_clock::time_point expires = std::chrono::steady_clock::time_point::max();
  };

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto c = std::make_shared<Conn>(io_);
      boost::system::error_code ec;
      co_await acceptor_.async_accept(c->socket, asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      ++connections_;
      asio::co_spawn(io_, serve(c), asio::detached);
    }
  }

  asio::awaitable<bool> read(Conn& c, asio::mutable_buffer b) {
    if (c.tls) co_return co_await c.tls->read(b);
    boost::system::error_code ec;
    co_await asio::async_read(c.socket, b, asio::redirect_error(use_awaitable, ec));
    co_return !ec;
  }

  asio::awaitable<void> serve(std::shared_ptr<Conn> c) {
    if (opts_.silent) {   // hold the connection open, read what comes, say nothing
      uint8_t sink[4096];
      boost::system::error_code ec;
      while (!ec) co_await c->socket.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
      co_return;
    }
    if (ctx_) {
      c->tls = std::make_unique<tls::TlsStream>(c->socket, ctx_);
      if (!(co_await c->tls->handshake()).empty()) co_return;
    }
    for (;;) {
      uint8_t size_bytes[4];
      if (!co_await read(*c, asio::buffer(size_bytes))) co_return;
      const uint32_t size = (uint32_t{size_bytes[0]} << 24) | (uint32_t{size_bytes[1]} << 16) |
                            (uint32_t{size_bytes[2]} << 8) | size_bytes[3];
      if (size > (1u << 20)) co_return;
      std::vector<uint8_t> frame(size);
      if (!co_await read(*c, asio::buffer(frame))) co_return;
      auto req = proto::parse_request_frame(frame);
      if (!req) co_return;
      auto bytes = answer(*c, *req);
      if (!bytes) co_return;   // closes, as Kafka does for a request before (re-)authentication
      std::vector<asio::const_buffer> out{asio::buffer(*bytes)};
      if (c->tls) {
        if (!co_await c->tls->write(out)) co_return;
      } else {
        boost::system::error_code ec;
        co_await asio::async_write(c->socket, out, asio::redirect_error(use_awaitable, ec));
        if (ec) co_return;
      }
    }
  }

  // The response frame, size prefix included.
  template <typename Resp>
  static std::vector<uint8_t> frame_of(const proto::RequestFrame& req, const Resp& resp) {
    const int16_t v = req.header.request_api_version;
    proto::ResponseHeader h;
    h.correlation_id = req.header.correlation_id;
    wire::Writer w;
    size_t at = w.reserve_int32();
    h.encode(w, proto::response_header_version(Resp::kApiKey, v));
    resp.encode(w, v);
    w.patch_int32(at, static_cast<int32_t>(w.buffer().size() - 4));
    return std::move(w.buffer());
  }

  std::optional<std::vector<uint8_t>> answer(Conn& c, const proto::RequestFrame& req) {
    const int16_t key = req.header.request_api_key, v = req.header.request_api_version;
    wire::Reader r(req.body);
    if (key == proto::ApiVersionsRequest::kApiKey) {
      proto::ApiVersionsResponse resp;
      for (auto [k, lo, hi] : {std::tuple<int16_t, int16_t, int16_t>{18, 0, 3}, {3, 0, 12}, {17, 0, 1}, {36, 0, 2}}) {
        proto::ApiVersionsResponse::ApiVersion a;
        a.api_key = k;
        a.min_version = lo;
        a.max_version = hi;
        resp.api_keys.push_back(a);
      }
      return frame_of(req, resp);
    }
    if (key == proto::SaslHandshakeRequest::kApiKey) {
      proto::SaslHandshakeRequest hs;
      if (!hs.decode(r, v)) return std::nullopt;
      proto::SaslHandshakeResponse resp;
      resp.mechanisms = {"PLAIN"};
      resp.error_code = !opts_.sasl ? errc::kIllegalSaslState : hs.mechanism == "PLAIN" ? 0 : errc::kUnsupportedSaslMechanism;
      return frame_of(req, resp);
    }
    if (key == proto::SaslAuthenticateRequest::kApiKey) {
      proto::SaslAuthenticateRequest a;
      if (!a.decode(r, v)) return std::nullopt;
      proto::SaslAuthenticateResponse resp;
      auto creds = security::sasl::parse_plain(std::string_view(reinterpret_cast<const char*>(a.auth_bytes.data()), a.auth_bytes.size()));
      if (!creds.ok() || creds->username != "alice" || creds->password != "alice-secret") {
        resp.error_code = errc::kSaslAuthenticationFailed;
        resp.error_message = "Authentication failed: Invalid username or password";
        return frame_of(req, resp);
      }
      ++authentications_;
      c.authenticated = true;
      if (opts_.session_lifetime_ms > 0) {
        c.expires = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.session_lifetime_ms);
        resp.session_lifetime_ms = opts_.session_lifetime_ms;
      }
      return frame_of(req, resp);
    }
    if (opts_.sasl && (!c.authenticated || std::chrono::steady_clock::now() >= c.expires)) {
      if (c.authenticated) ++refused_after_expiry_;
      return std::nullopt;
    }
    if (key == proto::MetadataRequest::kApiKey) {
      proto::MetadataResponse resp;
      proto::MetadataResponse::MetadataResponseBroker b;
      b.node_id = 1;
      b.host = "127.0.0.1";
      b.port = port();
      resp.brokers.push_back(b);
      resp.cluster_id = "fake";
      resp.controller_id = 1;
      return frame_of(req, resp);
    }
    return std::nullopt;
  }

  FakeOptions opts_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  tls::SslCtxPtr ctx_;
  std::thread thread_;
  std::atomic<int> connections_{0}, authentications_{0}, refused_after_expiry_{0};
};

// --- the client side ---
ClientConfig config_for(const FakeBroker& b, SecurityProtocol p, const std::string& host = "127.0.0.1") {
  ClientConfig c;
  c.bootstrap_servers = host + ":" + std::to_string(b.port());
  c.connect_timeout = std::chrono::milliseconds(2000);
  c.request_timeout = std::chrono::milliseconds(3000);
  c.security.protocol = p;
  c.security.tls.truststore_certificates = pki().ca.cert_pem;
  c.security.sasl = {"PLAIN", "alice", "alice-secret"};
  return c;
}

Result<ClusterMetadata> metadata(Cluster& cluster) {
  return cluster.run([&]() -> asio::awaitable<Result<ClusterMetadata>> {
    co_return co_await cluster.refresh_metadata({}, true);
  }());
}

// Metadata through a new client with `config`.
Result<ClusterMetadata> metadata_with(const ClientConfig& config) {
  Cluster cluster(config);
  return metadata(cluster);
}

// The error of a Metadata call that must fail.
Error refusal(const ClientConfig& config) {
  auto md = metadata_with(config);
  EXPECT_FALSE(md.ok());
  return md.ok() ? Error{} : md.error();
}

// config with a client certificate.
ClientConfig with_keystore(ClientConfig c, const KeyPair& kp) {
  c.security.tls.keystore_certificate_chain = kp.cert_pem;
  c.security.tls.keystore_key = kp.key_pem;
  return c;
}

TEST(TlsConnection, SaslSslGetsIn) {
  FakeBroker b({.tls = true, .sasl = true});
  Cluster cluster(config_for(b, SecurityProtocol::kSaslSsl));
  auto md = metadata(cluster);
  ASSERT_TRUE(md.ok()) << md.error().to_string();
  EXPECT_EQ(md->cluster_id, "fake");
  EXPECT_EQ(b.authentications(), 1);
}

TEST(TlsConnection, SaslPlaintextGetsIn) {
  FakeBroker b({.tls = false, .sasl = true});
  auto md = metadata_with(config_for(b, SecurityProtocol::kSaslPlaintext));
  ASSERT_TRUE(md.ok()) << md.error().to_string();
  EXPECT_EQ(b.authentications(), 1);
}

TEST(TlsConnection, PlaintextToASaslListenerIsCutOff) {
  // Kafka closes a connection whose first request after ApiVersions is not SASL.
  FakeBroker b({.tls = false, .sasl = true});
  auto e = refusal(config_for(b, SecurityProtocol::kPlaintext));
  EXPECT_EQ(e.code, errc::kNetworkException) << e.to_string();
}

TEST(TlsConnection, ReauthenticatesBeforeTheSessionEnds) {
  FakeBroker b({.tls = true, .sasl = true, .session_lifetime_ms = 400});
  Cluster cluster(config_for(b, SecurityProtocol::kSaslSsl));
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2200);
  int calls = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto md = metadata(cluster);
    ASSERT_TRUE(md.ok()) << "call " << calls << ": " << md.error().to_string();
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // One connection throughout (each Metadata to the bootstrap connection or the
  // broker's own id: at most two), re-authenticated about every 340-380 ms.
  EXPECT_LE(b.connections(), 2);
  EXPECT_GE(b.authentications(), 1 + 4);
  EXPECT_EQ(b.refused_after_expiry(), 0);
}

TEST(TlsConnection, WrongPasswordIsTheBrokersAnswer) {
  FakeBroker b({.tls = true, .sasl = true});
  auto c = config_for(b, SecurityProtocol::kSaslSsl);
  c.security.sasl.password = "wrong";
  auto e = refusal(c);
  EXPECT_EQ(e.code, errc::kSaslAuthenticationFailed);
  EXPECT_NE(e.message.find("Invalid username or password"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("'alice'"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("wrong"), std::string::npos) << e.message;
}

TEST(TlsConnection, UnsupportedMechanismNamesWhatIsOffered) {
  FakeBroker b({.tls = true, .sasl = true});
  auto c = config_for(b, SecurityProtocol::kSaslSsl);
  c.security.sasl.mechanism = "SCRAM-SHA-256";
  auto e = refusal(c);
  EXPECT_EQ(e.code, errc::kUnsupportedSaslMechanism);
  EXPECT_NE(e.message.find("it offers: PLAIN"), std::string::npos) << e.message;
}

TEST(TlsConnection, UntrustedBrokerCertificate) {
  FakeBroker b({.tls = true});
  auto c = config_for(b, SecurityProtocol::kSsl);
  c.security.tls.truststore_certificates = pki().rogue.cert_pem;
  auto e = refusal(c);
  EXPECT_EQ(e.code, errc::kSslAuthenticationFailed);
  EXPECT_NE(e.message.find("certificate verify failed"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("ssl.truststore"), std::string::npos) << e.message;
}

TEST(TlsConnection, HostnameMismatchUnlessIdentificationIsOff) {
  FakeBroker b({.tls = true});
  auto md = metadata_with(config_for(b, SecurityProtocol::kSsl, "localhost"));   // DNS:localhost: a match
  EXPECT_TRUE(md.ok()) << md.error().to_string();
  // 127.1 reaches 127.0.0.1, but as a name, which the certificate does not carry.
  auto c = config_for(b, SecurityProtocol::kSsl, "127.1");
  md = metadata_with(c);
  ASSERT_FALSE(md.ok());
  EXPECT_EQ(md.error().code, errc::kSslAuthenticationFailed);
  EXPECT_NE(md.error().message.find("mismatch"), std::string::npos) << md.error().message;
  EXPECT_NE(md.error().message.find("ssl.endpoint.identification.algorithm"), std::string::npos);
  c.security.tls.verify_hostname = false;
  md = metadata_with(c);
  EXPECT_TRUE(md.ok()) << md.error().to_string();
}

TEST(TlsConnection, MutualTls) {
  FakeBroker b({.tls = true, .require_client_cert = true});
  const auto base = config_for(b, SecurityProtocol::kSsl);
  auto md = metadata_with(base);   // no client certificate
  ASSERT_FALSE(md.ok());
  EXPECT_EQ(md.error().code, errc::kSslAuthenticationFailed) << md.error().to_string();
  EXPECT_NE(md.error().message.find("ssl.keystore"), std::string::npos) << md.error().message;
  md = metadata_with(with_keystore(base, pki().mallory));   // signed by a CA the broker does not trust
  ASSERT_FALSE(md.ok());
  EXPECT_EQ(md.error().code, errc::kSslAuthenticationFailed) << md.error().to_string();
  md = metadata_with(with_keystore(base, pki().alice));
  EXPECT_TRUE(md.ok()) << md.error().to_string();
}

TEST(TlsConnection, ASilentBrokerIsBoundedByTheConnectTimeout) {
  FakeBroker b({.tls = true, .silent = true});
  auto c = config_for(b, SecurityProtocol::kSsl);
  c.connect_timeout = std::chrono::milliseconds(300);
  Cluster cluster(c);
  const auto t0 = std::chrono::steady_clock::now();
  auto md = metadata(cluster);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(md.ok());
  EXPECT_EQ(md.error().code, errc::kRequestTimedOut) << md.error().to_string();
  EXPECT_NE(md.error().message.find("TLS handshake"), std::string::npos) << md.error().message;
  EXPECT_LT(took, std::chrono::seconds(2));
}

TEST(TlsConnection, TlsToAPlaintextListenerIsRefusedNotHung) {
  FakeBroker b({.tls = false});
  // The plaintext side reads the ClientHello as a frame and closes, or waits for
  // the rest of a "frame" that never comes: either way a bounded failure.
  auto e = refusal(config_for(b, SecurityProtocol::kSsl));
  EXPECT_TRUE(e.code == errc::kSslAuthenticationFailed || e.code == errc::kRequestTimedOut) << e.to_string();
}

TEST(TlsConnection, SaslToANonSaslListener) {
  FakeBroker b({.tls = true, .sasl = false});
  auto e = refusal(config_for(b, SecurityProtocol::kSaslSsl));
  EXPECT_EQ(e.code, errc::kIllegalSaslState) << e.to_string();
}

}  // namespace
}  // namespace millrace::client
