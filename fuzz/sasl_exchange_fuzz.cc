// libFuzzer target: the SASL mechanisms (security/sasl) fed any sequence of
// client messages. The first byte picks the mode, the rest is split on '\n'
// into messages:
//   0  each message parsed as SASL/PLAIN
//   1  SCRAM-SHA-256 server, one step per message
//   2  SCRAM-SHA-512 server, one step per message
//   3  a full exchange of the test client against the server, the messages
//      being user, password and client nonce (either mechanism)
// The server knows one user ("fuzz", password "pencil") and its nonce is the
// fixed "S", so the fuzzer can reach the proof check.
//
// Oracles beyond "no crash / no sanitizer report / no exception": PLAIN
// accepts only non-empty user and password without NUL; the server completes
// only for the known user, with the proof the known password gives (recomputed
// by the test client), and never steps after it ended; in mode 3 the
// exchange succeeds exactly when user and password are the known ones (up to
// trailing NULs, which HMAC's key padding ignores) and the nonce is one a
// client may send.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "security/sasl/plain.h"
#include "security/sasl/scram.h"
#include "security/sasl/scram_client.h"
#include "security/sasl/scram_messages.h"

using namespace millrace::security::sasl;

namespace {

constexpr std::string_view kUser = "fuzz";
constexpr std::string_view kPassword = "pencil";

const ScramCredential& credential(ScramMechanism m) {
  // A fixed salt, so that the seeds in fuzz/corpus/sasl_exchange_fuzz hold
  // whole exchanges that succeed.
  static const uint8_t kSalt[] = {'m', 'i', 'l', 'l', 'r', 'a', 'c', 'e'};
  static const ScramCredential c256 = make_credential(ScramMechanism::kSha256, kPassword, kSalt, 4096).value();
  static const ScramCredential c512 = make_credential(ScramMechanism::kSha512, kPassword, kSalt, 4096).value();
  return m == ScramMechanism::kSha512 ? c512 : c256;
}

ScramServer make_server(ScramMechanism m) {
  return ScramServer(
      m,
      [m](const std::string& user) -> std::optional<ScramCredential> {
        if (user == kUser) return credential(m);
        return std::nullopt;
      },
      [] { return std::string("S"); });
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\n') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

void check(bool ok) {
  if (!ok) std::abort();
}

void fuzz_plain(const std::vector<std::string_view>& messages) {
  for (auto m : messages) {
    auto r = parse_plain(m);
    if (!r.ok()) continue;
    check(m.size() <= kMaxPlainMessageBytes);
    check(!r->username.empty() && !r->password.empty());
    check(r->username.find('\0') == std::string::npos && r->password.find('\0') == std::string::npos);
  }
}

// The server completed on `final_msg`: its proof must be the one the known
// user's client computes for the same exchange (checked independently of the
// server's own comparison, so a weakened proof check is caught). Exchanges the
// test client cannot reproduce (another client-first, channel binding) are
// left to the other oracles.
void check_proof(ScramMechanism m, std::string_view first_msg, std::string_view server_first,
                 std::string_view final_msg) {
  auto first = scram::parse_client_first(first_msg);
  auto fin = scram::parse_client_final(final_msg);
  check(first.ok() && fin.ok());
  ScramClient c(m, std::string(kUser), std::string(kPassword), first->nonce);
  if (c.client_first() != first_msg) return;
  auto expected = c.client_final(server_first);
  check(expected.ok());
  auto want = scram::parse_client_final(expected.value());
  check(want.ok());
  if (want->without_proof != fin->without_proof) return;
  check(want->proof == fin->proof);
}

void fuzz_server(ScramMechanism m, const std::vector<std::string_view>& messages) {
  ScramServer s = make_server(m);
  std::string first_msg, server_first;
  for (auto msg : messages) {
    // The client-side parsers see the same bytes.
    (void)scram::parse_server_first(msg);
    (void)scram::parse_server_final(msg);
    bool ended = s.complete() || s.failed();
    auto r = s.step(msg);
    if (ended) {
      check(!r.ok() && r.error().code == Errc::kIllegalState);
      continue;
    }
    if (!r.ok()) {
      check(s.failed());
      continue;
    }
    check(r->response.size() <= 2 * kMaxScramMessageBytes);
    if (first_msg.empty()) {
      first_msg = msg;
      server_first = r->response;
    }
    if (r->complete) {
      check(s.complete() && r->username == kUser && s.username() == kUser);
      check_proof(m, first_msg, server_first, msg);
    }
  }
}

void fuzz_exchange(ScramMechanism m, const std::vector<std::string_view>& parts) {
  std::string user(parts.size() > 0 ? parts[0] : "");
  std::string password(parts.size() > 1 ? parts[1] : "");
  std::string nonce(parts.size() > 2 ? parts[2] : "");
  if (user.size() > 256 || password.size() > 256 || nonce.size() > 256) return;
  ScramServer s = make_server(m);
  ScramClient c(m, user, password, nonce);
  // PBKDF2 keys HMAC with the password, and HMAC pads a key shorter than its
  // block (64 bytes for SHA-256, 128 for SHA-512) with zeros: "pencil" and
  // "pencil\0\0" are the same password to SCRAM (and to Kafka).
  std::string_view effective = password;
  if (password.size() <= (m == ScramMechanism::kSha512 ? 128u : 64u)) {
    while (!effective.empty() && effective.back() == '\0') effective.remove_suffix(1);
  }
  bool known = user == kUser && effective == kPassword;
  bool sendable_nonce = nonce.empty() || scram::valid_nonce(nonce);
  bool authenticated = false;
  auto first = s.step(c.client_first());
  if (first.ok()) {
    auto fin = c.client_final(first->response);
    // The server's server-first always suits a client whose nonce it read
    // whole (a nonce with ',' is read short and refused by the client).
    check(fin.ok() || !sendable_nonce);
    auto last = fin.ok() ? s.step(fin.value()) : Result<ScramStep>(Errc::kMalformed, "");
    if (last.ok()) {
      check(last->complete && c.verify_server_final(last->response).ok());
      authenticated = true;
    }
  }
  check(authenticated == (known && sendable_nonce));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto messages = split(rest);
  switch (data[0] % 4) {
    case 0: fuzz_plain(messages); break;
    case 1: fuzz_server(ScramMechanism::kSha256, messages); break;
    case 2: fuzz_server(ScramMechanism::kSha512, messages); break;
    case 3: fuzz_exchange(data[0] & 4 ? ScramMechanism::kSha512 : ScramMechanism::kSha256, messages); break;
  }
  return 0;
}
