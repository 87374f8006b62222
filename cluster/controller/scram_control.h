// AlterUserScramCredentials as records (KRaft's ScramControlManager in shape):
// each user's deletions and upsertions checked against the credentials the
// metadata log holds, with Kafka's errors and messages, and the records of the
// users whose every change is good (UserScramCredentialRecord with the salt,
// StoredKey and ServerKey derived from the client's salted password,
// RemoveUserScramCredentialRecord). A user with any bad change changes
// nothing; a user named more than once in one request is refused whole
// (DUPLICATE_RESOURCE), as Kafka does. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cluster/metadata/records/codec.h"
#include "cluster/metadata/records/generated/user_scram_credential_record.h"

namespace millrace::cluster {

struct ScramChange {
  std::string user;
  int8_t mechanism = 0;  // 1 SCRAM-SHA-256, 2 SCRAM-SHA-512
  bool remove = false;
  int32_t iterations = 0;
  std::vector<uint8_t> salt, salted_password;
};

struct ScramUserResult {
  std::string user;
  int16_t error = 0;
  std::string message;
};

struct ScramDecision {
  std::vector<ScramUserResult> results;  // one per user, in first-seen order
  std::vector<records::AnyRecord> records;
};

using ScramCredentials = std::map<std::pair<std::string, int8_t>, records::UserScramCredentialRecord>;

ScramDecision alter_scram_credentials(const ScramCredentials& current, const std::vector<ScramChange>& changes);

}  // namespace millrace::cluster
