#include "client/result.h"

#include <gtest/gtest.h>

#include <cstring>

#include "protocol/generated/error_codes.h"

namespace millrace::client {
namespace {

TEST(ErrorName, KafkaCodesComeFromTheGeneratedTable) {
  EXPECT_STREQ(error_code_name(errc::kTopicAlreadyExists), "TOPIC_ALREADY_EXISTS");
  EXPECT_STREQ(error_code_name(errc::kUnknownServerError), "UNKNOWN_SERVER_ERROR");
  // Names as Kafka's Errors enum spells them, at both ends of the table and in between.
  EXPECT_STREQ(error_code_name(0), "NONE");
  EXPECT_STREQ(error_code_name(1), "OFFSET_OUT_OF_RANGE");
  EXPECT_STREQ(error_code_name(6), "NOT_LEADER_OR_FOLLOWER");
  EXPECT_STREQ(error_code_name(45), "OUT_OF_ORDER_SEQUENCE_NUMBER");
  EXPECT_STREQ(error_code_name(59), "UNKNOWN_PRODUCER_ID");
  EXPECT_STREQ(error_code_name(82), "FENCED_INSTANCE_ID");
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
