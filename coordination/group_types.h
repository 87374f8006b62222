// Plain value types of the group coordinator's API. They mirror the Kafka
// requests and responses the broker translates from and to, so the
// coordinator depends on no wire code. Error codes are Kafka's numbers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace millrace::coordination {

// Kafka error codes the coordinator returns.
namespace err {
inline constexpr int16_t kNone = 0;
inline constexpr int16_t kUnknownTopicOrPartition = 3;
inline constexpr int16_t kOffsetMetadataTooLarge = 12;
inline constexpr int16_t kCoordinatorLoadInProgress = 14;
inline constexpr int16_t kCoordinatorNotAvailable = 15;
inline constexpr int16_t kNotCoordinator = 16;
inline constexpr int16_t kIllegalGeneration = 22;
inline constexpr int16_t kInconsistentGroupProtocol = 23;
inline constexpr int16_t kInvalidGroupId = 24;
inline constexpr int16_t kUnknownMemberId = 25;
inline constexpr int16_t kInvalidSessionTimeout = 26;
inline constexpr int16_t kRebalanceInProgress = 27;
inline constexpr int16_t kInvalidCommitOffsetSize = 28;
inline constexpr int16_t kNonEmptyGroup = 68;
inline constexpr int16_t kGroupIdNotFound = 69;
inline constexpr int16_t kGroupMaxSizeReached = 81;
inline constexpr int16_t kFencedInstanceId = 82;
inline constexpr int16_t kMemberIdRequired = 79;
inline constexpr int16_t kKafkaStorageError = 56;
inline constexpr int16_t kGroupSubscribedToTopic = 86;
inline constexpr int16_t kUnstableOffsetCommit = 88;
}  // namespace err

enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };
const char* state_name(GroupState s);  // Kafka's names: "Empty", "PreparingRebalance", ...

struct Protocol {
  std::string name;
  std::vector<uint8_t> metadata;
};

struct JoinRequest {
  std::string group_id;
  std::string member_id;                     // empty on first join
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 10000;
  int32_t rebalance_timeout_ms = 300000;
  std::string protocol_type;
  std::vector<Protocol> protocols;
  bool require_known_member_id = false;      // JoinGroup v4+
};

struct JoinMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<uint8_t> metadata;
};

struct JoinResult {
  int16_t error = err::kNone;
  int32_t generation_id = -1;
  std::string protocol_type;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<JoinMember> members;  // only for the leader
};

struct SyncRequest {
  std::string group_id;
  std::string member_id;
  int32_t generation_id = -1;
  std::optional<std::string> group_instance_id;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> assignments;  // leader only
};

struct SyncResult {
  int16_t error = err::kNone;
  std::string protocol_type;
  std::string protocol_name;
  std::vector<uint8_t> assignment;
};

struct LeaveMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct OffsetCommitEntry {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = 0;
};

struct MemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::vector<uint8_t> metadata;    // of the chosen protocol
  std::vector<uint8_t> assignment;
};

struct GroupDescription {
  int16_t error = err::kNone;
  std::string group_id;
  std::string state;
  std::string protocol_type;
  std::string protocol;
  std::vector<MemberDescription> members;
};

struct GroupListing {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

using JoinCallback = std::function<void(JoinResult)>;
using SyncCallback = std::function<void(SyncResult)>;
// One error per committed partition, in request order.
using CommitCallback = std::function<void(std::vector<int16_t>)>;
// The group-level error, then one error per partition.
using DeleteOffsetsCallback = std::function<void(int16_t, std::vector<int16_t>)>;
using DeleteGroupCallback = std::function<void(int16_t)>;

}  // namespace millrace::coordination
