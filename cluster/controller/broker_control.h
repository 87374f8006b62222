// The controller's broker membership decisions, as records (KRaft's
// ClusterControlManager and BrokerHeartbeatManager in their shape):
// registration with an incarnation id and a broker epoch, heartbeats,
// unfencing once the broker has caught up with the metadata log, fencing when
// its session expires, and controlled shutdown. When a broker is fenced or
// shuts down, every partition of one replica it leads gets a new leader from
// its in-sync replicas that still serve (or none), and it leaves the ISRs it
// was in. A partition of more than one replica is left alone: its Raft group
// elects its leader and keeps its ISR (the broker itself hands its Raft
// leadership on at SIGTERM), and the controller only records what that leader
// reports (partition_leadership.h). A fenced leader still shows no leader in
// the image.
//
// Sessions (the last heartbeat of each broker) are the active controller's
// memory, not the log: a newly elected controller starts every session at its
// first look, as Kafka's does. Everything else is decided from the metadata
// state. Pure: time comes in as now_ms.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/controller/topic_control.h"

namespace millrace::cluster {

struct BrokerRegistrationRequest {
  int32_t id = -1;
  TopicId incarnation{};
  std::vector<BrokerEndpoint> endpoints;
  std::optional<std::string> rack;
};

struct BrokerHeartbeatRequest {
  int32_t id = -1;
  int64_t epoch = -1;
  int64_t metadata_offset = -1;  // how far the broker has applied the metadata log
  bool want_shutdown = false;
};

class BrokerControl {
 public:
  explicit BrokerControl(int64_t session_timeout_ms) : session_ms_(session_timeout_ms) {}

  // A RegisterBrokerRecord (fenced) with broker epoch `epoch` (Kafka's: the
  // offset the record will have). DUPLICATE_BROKER_REGISTRATION while another
  // incarnation of the id still has a live session.
  ControlResult register_broker(const MetadataState& state, const BrokerRegistrationRequest& req, int64_t epoch,
                                int64_t now_ms);

  // Notes the heartbeat. Unfences a fenced broker whose metadata offset reached
  // `caught_up_offset`; a shutdown request moves its leadership away.
  // STALE_BROKER_EPOCH / BROKER_ID_NOT_REGISTERED for a wrong epoch or id.
  ControlResult heartbeat(const MetadataState& state, const BrokerHeartbeatRequest& req, int64_t caught_up_offset,
                          int64_t now_ms);

  // Fences every unfenced broker whose session expired, moving its leadership.
  std::vector<records::AnyRecord> expire(const MetadataState& state, int64_t now_ms);

  // The records that move leadership and ISR membership off `broker`, in the
  // partitions the controller places (one replica; led_by_raft ones are left
  // alone: with one replica this leaves it leaderless or, below, keeps it).
  // keep_sole_leader (a controlled shutdown): a partition with no other
  // serving in-sync replica keeps its leader, which serves until the process
  // is gone (then its session expires and fencing leaves it leaderless);
  // moving it to "no leader" would only fail the requests in flight.
  static std::vector<records::AnyRecord> move_off(const MetadataState& state, int32_t broker,
                                                  bool keep_sole_leader = false);
  // A broker in controlled shutdown may exit: it leads no partition of the
  // controller's that has another serving in-sync replica to move to (Raft
  // groups' leadership is the broker's own to hand on before it exits).
  static bool can_shut_down(const MetadataState& state, int32_t broker);
  // The records that make `broker` (coming back unfenced) lead every partition
  // of one replica, its own, left without a leader (a Raft group's leader,
  // once unfenced, shows in the image again by itself).
  static std::vector<records::AnyRecord> lead_again(const MetadataState& state, int32_t broker);

 private:
  bool session_alive(int32_t id, int64_t now_ms);

  int64_t session_ms_;
  std::map<int32_t, int64_t> last_beat_;
};

}  // namespace millrace::cluster
