// ElectLeaders PREFERRED (api 43), from whichever broker a client asked: each
// named partition (none named: every replicated partition whose preferred
// replica, the first of its assignment, does not lead) is checked against
// this broker's metadata image (cluster/replication/preferred_leader.h):
//
//   unknown                         UNKNOWN_TOPIC_OR_PARTITION
//   one replica, or preferred leads ELECTION_NOT_NEEDED
//   preferred unavailable / not in  PREFERRED_LEADER_NOT_AVAILABLE, with why
//   the ISR / no leader now
//   otherwise                       its leader hands leadership to the preferred
//                                   replica (Raft's TimeoutNow): 0 once that one
//                                   leads, REQUEST_TIMED_OUT after min(timeout_ms, 5 s)
//
// Partitions led here go to this broker's ReplicationService; the others are
// sent, as one ElectLeaders v2 per leader, to their leader's Kafka listener
// (ReplicationService::forward) and its answers merged in. A forwarded request
// (from a Millrace peer link) is never forwarded again: a partition its
// receiver does not lead answers NOT_LEADER_OR_FOLLOWER and the client retries.
#pragma once

#include <utility>  // before awaitable.hpp, which uses std::exchange
#include <boost/asio/awaitable.hpp>

#include <cstdint>

#include "broker/replication/replication_service.h"
#include "cluster/metadata/metadata_image.h"
#include "protocol/generated/elect_leaders_request.h"
#include "protocol/generated/elect_leaders_response.h"

namespace millrace::broker {

constexpr int64_t kMaxElectionWaitMs = 5000;

// `replication` null: no partition is replicated here (each answers as one of
// a single replica). Runs on the request's executor.
boost::asio::awaitable<proto::ElectLeadersResponse> elect_preferred_leaders(ReplicationService* replication,
                                                                            const cluster::MetadataImage& image,
                                                                            int32_t me,
                                                                            const proto::ElectLeadersRequest& req,
                                                                            bool forwarded);

}  // namespace millrace::broker
