#include "cluster/controller/scram_control.h"

#include <algorithm>
#include <set>

#include "cluster/metadata/records/generated/remove_user_scram_credential_record.h"
#include "protocol/generated/error_codes.h"
#include "security/sasl/scram.h"

namespace millrace::cluster {

namespace sasl = security::sasl;

ScramDecision alter_scram_credentials(const ScramCredentials& current, const std::vector<ScramChange>& changes) {
  ScramDecision out;
  std::vector<std::string> order;
  std::map<std::string, std::vector<const ScramChange*>> by_user;
  for (const auto& c : changes) {
    if (!by_user.count(c.user)) order.push_back(c.user);
    by_user[c.user].push_back(&c);
  }
  using E = proto::ErrorCode;
  for (const auto& user : order) {
    ScramUserResult result{user, 0, ""};
    std::vector<records::AnyRecord> recs;
    auto fail = [&](E code, std::string message) {
      if (result.error == 0) result = {user, static_cast<int16_t>(code), std::move(message)};
    };
    for (const ScramChange* c : by_user[user]) {
      if (user.empty()) {
        fail(E::kUnacceptableCredential, "Username must not be empty");
        continue;
      }
      // Kafka refuses a user named more than once in one request, whatever the mechanisms.
      if (by_user[user].size() > 1) {
        fail(E::kDuplicateResource, "A user credential cannot be altered twice in the same request");
        continue;
      }
      const auto m = c->mechanism == 1 ? sasl::ScramMechanism::kSha256 : sasl::ScramMechanism::kSha512;
      if (c->mechanism != 1 && c->mechanism != 2) {
        fail(E::kUnsupportedSaslMechanism, "Unknown SCRAM mechanism");
        continue;
      }
      if (c->remove) {
        if (!current.count({user, c->mechanism})) {
          fail(E::kResourceNotFound, "Attempt to delete a user credential that does not exist");
          continue;
        }
        records::RemoveUserScramCredentialRecord r;
        r.name = user;
        r.mechanism = c->mechanism;
        recs.emplace_back(std::move(r));
        continue;
      }
      auto cred = sasl::credential_from_salted(m, c->salt, c->salted_password, c->iterations);
      if (!cred.ok()) {
        fail(E::kUnacceptableCredential, cred.error().message);
        continue;
      }
      records::UserScramCredentialRecord r;
      r.name = user;
      r.mechanism = c->mechanism;
      r.salt = cred->salt;
      r.stored_key = cred->stored_key;
      r.server_key = cred->server_key;
      r.iterations = cred->iterations;
      recs.emplace_back(std::move(r));
    }
    if (result.error == 0)
      for (auto& r : recs) out.records.push_back(std::move(r));
    out.results.push_back(std::move(result));
  }
  return out;
}

}  // namespace millrace::cluster
