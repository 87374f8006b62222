// Preferred leaders (Kafka's auto.leader.rebalance.enable and ElectLeaders
// PREFERRED): the first replica of a partition's assignment is its preferred
// leader, so leadership spreads over the brokers as placement spread the
// first replicas. After a failover and the old leader's return, leadership is
// handed back to it, by Raft's leadership transfer (TimeoutNow), never by an
// election that could pick a replica lacking committed entries.
//
// choose_preferred_leader() decides on plain facts whether a partition's
// leadership should move to its preferred replica. The broker's rebalance tick
// (on the leader, with its own ISR) and the ElectLeaders handler (with the
// metadata image's) call it, so both decide alike. Pure: no clock, no I/O.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace millrace::cluster {

enum class PreferredVerdict : uint8_t {
  kNoReplicas,     // no assignment: nothing to decide
  kAlreadyLeader,  // the preferred replica leads (ELECTION_NOT_NEEDED)
  kNoLeader,       // no one leads now (the group is electing): no one to hand over
  kNotAvailable,   // it is not a registered, unfenced broker out of controlled shutdown
  kNotInSync,      // its log lacks committed entries (not in the leader's ISR)
  kMove,           // hand leadership to it
};

struct PreferredChoice {
  PreferredVerdict verdict = PreferredVerdict::kNoReplicas;
  int32_t preferred = -1;  // replicas[0], -1 without replicas
  // Why it does not move, for a response's error message ("" for kMove).
  std::string why() const;
};

// leader: the current leader (-1: none); replicas: the assignment in order;
// in_sync: the leader's in-sync replicas; can_lead: the brokers that may lead
// (registered, unfenced, not in controlled shutdown).
PreferredChoice choose_preferred_leader(int32_t leader, const std::vector<int32_t>& replicas,
                                        const std::vector<int32_t>& in_sync, const std::set<int32_t>& can_lead);

}  // namespace millrace::cluster
