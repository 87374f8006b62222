#include "cluster/controller/broker_control.h"

#include <algorithm>

#include "cluster/controller/partition_leadership.h"

namespace millrace::cluster {
namespace {

namespace err {
constexpr int16_t kStaleBrokerEpoch = 77;
constexpr int16_t kDuplicateBrokerRegistration = 101;
constexpr int16_t kBrokerIdNotRegistered = 102;
}  // namespace err

// Can lead: registered, not fenced, not shutting down.
bool serving(const MetadataState& state, int32_t id) {
  auto it = state.brokers().find(id);
  return it != state.brokers().end() && !it->second.fenced && !it->second.in_controlled_shutdown;
}

}  // namespace

bool BrokerControl::session_alive(int32_t id, int64_t now_ms) {
  auto it = last_beat_.find(id);
  if (it == last_beat_.end()) {
    last_beat_[id] = now_ms;  // first look at it: a whole session from now
    return true;
  }
  return now_ms - it->second < session_ms_;
}

ControlResult BrokerControl::register_broker(const MetadataState& state, const BrokerRegistrationRequest& req,
                                             int64_t epoch, int64_t now_ms) {
  if (req.id < 0) return {42, "broker id " + std::to_string(req.id) + " is not valid", {}};
  if (auto it = state.brokers().find(req.id); it != state.brokers().end()) {
    // Only a session this controller has seen blocks another incarnation (a
    // controller that just started knows of none, as Kafka's).
    auto beat = last_beat_.find(req.id);
    bool live = beat != last_beat_.end() && now_ms - beat->second < session_ms_;
    if (it->second.incarnation != req.incarnation && live)
      return {err::kDuplicateBrokerRegistration,
              "Another broker is registered with that broker id: " + std::to_string(req.id), {}};
  }
  BrokerRegistration b;
  b.id = req.id;
  b.incarnation = req.incarnation;
  b.epoch = epoch;
  b.endpoints = req.endpoints;
  b.rack = req.rack;
  b.fenced = true;  // until it has caught up with the metadata log
  auto r = register_record(b);
  last_beat_[req.id] = now_ms;
  return {0, "", {r}};
}

ControlResult BrokerControl::heartbeat(const MetadataState& state, const BrokerHeartbeatRequest& req,
                                       int64_t caught_up_offset, int64_t now_ms) {
  auto it = state.brokers().find(req.id);
  if (it == state.brokers().end())
    return {err::kBrokerIdNotRegistered, "broker " + std::to_string(req.id) + " is not registered", {}};
  if (it->second.epoch != req.epoch)
    return {err::kStaleBrokerEpoch,
            "broker " + std::to_string(req.id) + " epoch " + std::to_string(req.epoch) + " is not its registered " +
                std::to_string(it->second.epoch),
            {}};
  last_beat_[req.id] = now_ms;
  ControlResult out;
  const auto& b = it->second;
  if (req.want_shutdown) {
    if (!b.in_controlled_shutdown) {
      records::BrokerRegistrationChangeRecord c;
      c.broker_id = req.id;
      c.broker_epoch = req.epoch;
      c.fenced = 0;
      c.in_controlled_shutdown = 1;
      out.records.emplace_back(std::move(c));
    }
    auto moves = move_off(state, req.id, /*keep_sole_leader=*/true);
    out.records.insert(out.records.end(), moves.begin(), moves.end());
  } else if (b.fenced && req.metadata_offset >= caught_up_offset) {
    records::UnfenceBrokerRecord u;
    u.id = req.id;
    u.epoch = req.epoch;
    out.records.emplace_back(std::move(u));
    auto back = lead_again(state, req.id);
    out.records.insert(out.records.end(), back.begin(), back.end());
  }
  return out;
}

std::vector<records::AnyRecord> BrokerControl::lead_again(const MetadataState& state, int32_t broker) {
  std::vector<records::AnyRecord> out;
  for (const auto& [id, t] : state.topics())
    for (const auto& [index, p] : t.partitions) {
      if (led_by_raft(p) || p.leader != -1 || std::find(p.isr.begin(), p.isr.end(), broker) == p.isr.end()) continue;
      records::PartitionChangeRecord c;
      c.topic_id.bytes = id;
      c.partition_id = index;
      c.leader = broker;
      out.emplace_back(std::move(c));
    }
  return out;
}

std::vector<records::AnyRecord> BrokerControl::expire(const MetadataState& state, int64_t now_ms) {
  std::vector<records::AnyRecord> out;
  for (const auto& [id, b] : state.brokers()) {
    if (b.fenced || session_alive(id, now_ms)) continue;
    records::FenceBrokerRecord f;
    f.id = id;
    f.epoch = b.epoch;
    out.emplace_back(std::move(f));
    auto moves = move_off(state, id);
    out.insert(out.end(), moves.begin(), moves.end());
  }
  return out;
}

bool BrokerControl::can_shut_down(const MetadataState& state, int32_t broker) {
  for (const auto& [id, t] : state.topics())
    for (const auto& [index, p] : t.partitions) {
      if (led_by_raft(p) || p.leader != broker) continue;
      for (int32_t r : p.isr)
        if (r != broker && serving(state, r)) return false;  // it could still move there
    }
  return true;
}

std::vector<records::AnyRecord> BrokerControl::move_off(const MetadataState& state, int32_t broker,
                                                        bool keep_sole_leader) {
  std::vector<records::AnyRecord> out;
  for (const auto& [id, t] : state.topics())
    for (const auto& [index, p] : t.partitions) {
      if (led_by_raft(p)) continue;
      bool leads = p.leader == broker;
      bool in_isr = std::find(p.isr.begin(), p.isr.end(), broker) != p.isr.end();
      if (!leads && !in_isr) continue;
      records::PartitionChangeRecord c;
      c.topic_id.bytes = id;
      c.partition_id = index;
      std::vector<int32_t> isr;
      for (int32_t r : p.isr)
        if (r != broker) isr.push_back(r);
      // The last in-sync replica stays in the ISR (it alone has every acknowledged
      // record); it just cannot lead while it does not serve.
      if (isr.empty()) isr = p.isr;
      if (isr != p.isr) c.isr = isr;
      if (leads) {
        c.leader = keep_sole_leader ? -2 : -1;  // -2: unchanged
        for (int32_t r : p.replicas)  // preferred order
          if (r != broker && serving(state, r) && std::find(isr.begin(), isr.end(), r) != isr.end()) {
            c.leader = r;
            break;
          }
        if (c.leader == -2) c.isr.reset();  // it keeps leading: it stays in sync
      }
      if (c.isr || c.leader != -2) out.emplace_back(std::move(c));
    }
  return out;
}

}  // namespace millrace::cluster
