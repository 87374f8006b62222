// Which replicas' catch-up a broker's replication throttle governs.
//
// The rates are the brokers' (leader.replication.throttled.rate: what a
// leader sends; follower.replication.throttled.rate: what a follower takes
// in, each over all its partitions); the topic-level lists pick the replicas,
// by Kafka's names and format:
//
//   leader.replication.throttled.replicas    "p:b,..." names partition p's
//   follower.replication.throttled.replicas  replica on broker b, "*" all of
//                                            the topic's
//
// As in Kafka, a listed replica is throttled only while it is out of sync
// (catching up): on the leader's side, a learner or a voter outside the ISR;
// on the follower's, a learner, or an append that carries only entries the
// leader has already committed. A topic whose list names none of this
// broker's replicas of a partition is not throttled there.
//
// Where a topic sets no list, Millrace still throttles the replicas a
// reassignment adds (Raft learners) at the rates: the operator's moves and
// kafka-reassign-partitions.sh --throttle both want exactly that, and a
// broker whose rates are 0 (the default) throttles nothing, as Kafka does.
#pragma once

#include <cstdint>
#include <string_view>

namespace millrace::cluster {

enum class Throttled : uint8_t {
  kLearners,   // no list: the replicas a reassignment adds
  kOutOfSync,  // listed: learners and voters out of sync
  kNone,       // a list that names none of this broker's replica of the partition
};

struct ThrottleScope {
  Throttled leader = Throttled::kLearners;
  Throttled follower = Throttled::kLearners;
  bool operator==(const ThrottleScope&) const = default;
};

// What one list says of `partition`'s replica on `broker`. The list was
// checked when it was set (storage::LogConfig); anything unreadable in it is
// skipped.
Throttled throttled_by(std::string_view list, int32_t partition, int32_t broker);

}  // namespace millrace::cluster
