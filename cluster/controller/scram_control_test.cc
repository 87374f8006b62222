#include "cluster/controller/scram_control.h"

#include <gtest/gtest.h>

#include "cluster/metadata/records/generated/remove_user_scram_credential_record.h"
#include "protocol/generated/error_codes.h"
#include "security/sasl/scram.h"
#include "security/sasl/scram_formatter.h"

namespace millrace::cluster {
namespace {

namespace sasl = security::sasl;
using E = proto::ErrorCode;

ScramChange upsert(std::string user, int8_t mechanism, const std::string& password, int32_t iterations = 4096) {
  const auto m = mechanism == 1 ? sasl::ScramMechanism::kSha256 : sasl::ScramMechanism::kSha512;
  std::vector<uint8_t> salt = {1, 2, 3, 4, 5, 6, 7, 8};
  auto salted = sasl::scram::salted_password(m, password, salt, iterations);
  return {std::move(user), mechanism, false, iterations, salt, salted.value_or(std::vector<uint8_t>{})};
}

// The client salts and hashes; the record holds what the server needs, and a
// SCRAM exchange with the password succeeds against it.
TEST(ScramControl, AnUpsertionRecordsTheKeysAPasswordAuthenticatesAgainst) {
  auto d = alter_scram_credentials({}, {upsert("alice", 2, "alice-secret")});
  ASSERT_EQ(d.results.size(), 1u);
  EXPECT_EQ(d.results[0].error, 0) << d.results[0].message;
  ASSERT_EQ(d.records.size(), 1u);
  const auto& r = std::get<records::UserScramCredentialRecord>(d.records[0]);
  auto expected = sasl::make_credential(sasl::ScramMechanism::kSha512, "alice-secret",
                                        std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}, 4096);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(r.stored_key, expected->stored_key);
  EXPECT_EQ(r.server_key, expected->server_key);
  EXPECT_EQ(r.iterations, 4096);
}

TEST(ScramControl, EachUserFailsWholeWithKafkasErrors) {
  ScramCredentials current;
  records::UserScramCredentialRecord bob;
  bob.name = "bob";
  bob.mechanism = 1;
  current[{"bob", 1}] = bob;
  auto d = alter_scram_credentials(current, {
      upsert("alice", 2, "pw"),
      {"carol", 2, true, 0, {}, {}},                      // deleting what does not exist
      upsert("dave", 2, "pw", 1000),                      // too few iterations
      upsert("erin", 1, "pw"), upsert("erin", 1, "pw2"),  // twice in one request
      upsert("frank", 2, "pw"), upsert("frank", 1, "pw"),  // two mechanisms in one request: refused too
      {"bob", 1, true, 0, {}, {}},
      {"", 2, false, 4096, {1}, {}},
      {"gina", 3, false, 4096, {1}, {}},
  });
  std::map<std::string, ScramUserResult> by;
  for (auto& r : d.results) by[r.user] = r;
  EXPECT_EQ(by["alice"].error, 0);
  EXPECT_EQ(by["carol"].error, static_cast<int16_t>(E::kResourceNotFound));
  EXPECT_EQ(by["dave"].error, static_cast<int16_t>(E::kUnacceptableCredential));
  EXPECT_EQ(by["dave"].message, "Too few iterations");
  EXPECT_EQ(by["erin"].error, static_cast<int16_t>(E::kDuplicateResource));
  EXPECT_EQ(by["frank"].error, static_cast<int16_t>(E::kDuplicateResource));
  EXPECT_EQ(by["bob"].error, 0);
  EXPECT_EQ(by[""].error, static_cast<int16_t>(E::kUnacceptableCredential));
  EXPECT_EQ(by["gina"].error, static_cast<int16_t>(E::kUnsupportedSaslMechanism));
  // Records only for alice (upsert) and bob (removal).
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(std::get<records::UserScramCredentialRecord>(d.records[0]).name, "alice");
  EXPECT_EQ(std::get<records::RemoveUserScramCredentialRecord>(d.records[1]).name, "bob");
}

}  // namespace
}  // namespace millrace::cluster
