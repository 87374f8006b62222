// Preferred read replicas (KIP-392, Kafka's replica.selector.class =
// org.apache.kafka.common.replica.RackAwareReplicaSelector): a consumer that
// names its rack (client.rack, Fetch v11+ rack_id) is sent to an in-sync
// replica in that rack when the leader is elsewhere, so its reads stay in its
// failure domain. The leader answers such a fetch with
// preferred_read_replica = the chosen broker and no records; the consumer
// then fetches from that follower, which serves up to its own high watermark.
//
// choose_read_replica() decides on plain facts, so it is tested without a
// broker. Pure: no clock, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace millrace::cluster {

// client_rack: the consumer's rack ("" = none named); leader: the broker that
// leads (the caller); replicas: the assignment, in order; in_sync: the
// leader's in-sync replicas (each holds every committed entry and was heard
// from within an election timeout); racks: the rack of each broker that may
// serve (registered, unfenced, not in controlled shutdown; "" = no rack).
//
// Returns the broker the consumer should read from instead of the leader:
// the first replica of the assignment other than the leader that is in sync,
// may serve and is in the client's rack. -1 (read from the leader) when the
// client names no rack, the leader is in the client's rack, or no such
// replica exists.
int32_t choose_read_replica(std::string_view client_rack, int32_t leader, const std::vector<int32_t>& replicas,
                            const std::vector<int32_t>& in_sync, const std::map<int32_t, std::string>& racks);

}  // namespace millrace::cluster
