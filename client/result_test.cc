#include "client/result.h"

#include <gtest/gtest.h>

#include <cstring>

#include "protocol/generated/error_codes.h"

namespace millrace::client {
namespace {

TEST(ErrorName, KafkaCodesComeFromTheGeneratedTable) {
  EXPECT_STREQ(error_code_name(errc::kTopicAlreadyExists), "TOPIC_ALREADY_EXISTS");
  EXPECT_STREQ(error_code_name(errc::kUnknownServerError), "UNKNOWN_SERVER_ERROR");
  // Every code the generated table knows gives the same name through the client.
  for (int code = -1; code < 200; ++code) {
    auto want = proto::error_name(static_cast<int16_t>(code));
    EXPECT_EQ(std::string_view(error_code_name(static_cast<int16_t>(code))), want) << code;
  }
}

TEST(ErrorName, ClientClosedHasItsOwnName) {
  EXPECT_STREQ(error_code_name(errc::kClientClosed), "CLIENT_CLOSED");
  EXPECT_FALSE(is_retriable(errc::kClientClosed));
}

TEST(Retriable, FollowsKafkasClassification) {
  // The codes a producer must retry (Kafka's RetriableException subclasses) ...
  for (int16_t c : {errc::kNotLeaderOrFollower, errc::kNetworkException, errc::kRequestTimedOut,
                    errc::kNotEnoughReplicas, errc::kNotCoordinator, errc::kKafkaStorageError})
    EXPECT_TRUE(is_retriable(c)) << c;
  // ... and the ones it must not: the request itself is wrong.
  for (int16_t c : {errc::kNone, errc::kMessageTooLarge, errc::kRecordListTooLarge, errc::kInvalidConfig,
                    errc::kOutOfOrderSequence, errc::kUnsupportedVersion, errc::kClientClosed})
    EXPECT_FALSE(is_retriable(c)) << c;
}

TEST(ErrorName, UnknownCodeIsNamedUnknown) {
  EXPECT_STREQ(error_code_name(12345), "UNKNOWN");
  EXPECT_STREQ(error_code_name(-7), "UNKNOWN");
}

TEST(ErrorToString, NamesCodeNumberAndMessage) {
  Error e{errc::kTopicAlreadyExists, "Topic 'x' already exists."};
  EXPECT_EQ(e.to_string(), "TOPIC_ALREADY_EXISTS (36): Topic 'x' already exists.");
  EXPECT_EQ(Error::closed("producer is closed").to_string(), "CLIENT_CLOSED (-100): producer is closed");
  EXPECT_EQ(Error{}.to_string(), "NONE (0)");
}

}  // namespace
}  // namespace millrace::client
