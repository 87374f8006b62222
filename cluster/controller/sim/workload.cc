#include "cluster/controller/sim/workload.h"

#include "cluster/controller/partition_leadership.h"
#include "cluster/controller/sim/metadata_batch.h"
#include "cluster/controller/topic_control.h"

namespace millrace::cluster::sim {

Workload::Workload(uint64_t seed) : rng_(seed ^ 0xC0A7C0A7C0A7ull) {
  for (int32_t id = 1; id <= kBrokers; ++id) {
    Broker b;
    b.id = id;
    b.incarnation = random_id();
    brokers_.push_back(b);
  }
}

TopicId Workload::random_id() {
  TopicId id{};
  for (auto& byte : id) byte = static_cast<uint8_t>(rng_());
  return id;
}

bool Workload::take_records(const char* op, std::vector<records::AnyRecord> rs, MetadataState& state,
                    std::vector<records::AnyRecord>& out) {
  if (rs.empty()) return true;
  ++stats_.ops[op];
  for (auto& r : rs) {
    std::string why = state.apply(r);
    if (!why.empty()) {
      if (error_.empty())
        error_ = std::string("the controller's ") + op + " decision " + describe(r) +
                 " does not apply to the state it was made against: " + why;
      return false;
    }
    out.push_back(std::move(r));
  }
  return true;
}

bool Workload::take(const char* op, const ControlResult& r, MetadataState& state,
                    std::vector<records::AnyRecord>& out) {
  if (!r.ok()) {
    ++stats_.refused;
    return true;  // an error answer writes nothing
  }
  return take_records(op, r.records, state, out);
}

void Workload::brokers(BrokerControl& ctl, MetadataState& state, int64_t next_offset, int64_t commit, int64_t now_ms,
                       std::vector<records::AnyRecord>& out) {
  if (pick(200) == 0) {  // a broker dies (kill -9): back later as a new incarnation
    Broker& b = brokers_[static_cast<size_t>(pick(kBrokers))];
    b.down_until_ms = now_ms + 1000 + pick(8000);
    b.incarnation = random_id();
  }
  if (pick(300) == 0) brokers_[static_cast<size_t>(pick(kBrokers))].shutting_down = true;
  for (Broker& b : brokers_) {
    if (now_ms < b.down_until_ms) continue;
    auto reg = state.brokers().find(b.id);
    if (reg == state.brokers().end() || reg->second.incarnation != b.incarnation) {
      BrokerRegistrationRequest req;
      req.id = b.id;
      req.incarnation = b.incarnation;
      req.endpoints.push_back({"PLAINTEXT", "127.0.0.1", static_cast<uint16_t>(9092 + b.id), 0});
      req.rack = std::string("rack-").append(std::to_string(b.id % 2));
      int64_t epoch = next_offset + static_cast<int64_t>(out.size());
      if (!take("register", ctl.register_broker(state, req, epoch, now_ms), state, out)) return;
      b.last_beat_ms = now_ms;
      continue;
    }
    if (now_ms - b.last_beat_ms < kHeartbeatMs) continue;
    BrokerHeartbeatRequest hb;
    hb.id = b.id;
    hb.epoch = reg->second.epoch;
    hb.metadata_offset = commit - pick(3);  // sometimes not caught up yet
    hb.want_shutdown = b.shutting_down;
    if (!take(b.shutting_down ? "shutdown" : "heartbeat", ctl.heartbeat(state, hb, commit, now_ms), state, out))
      return;
    b.last_beat_ms = now_ms;
    if (b.shutting_down) {  // leadership moved away: the process exits, restarts later
      b.shutting_down = false;
      b.down_until_ms = now_ms + 1000 + pick(4000);
      b.incarnation = random_id();
    }
  }
  take_records("expire", ctl.expire(state, now_ms), state, out);
}

void Workload::admin(MetadataState& state, std::vector<records::AnyRecord>& out) {
  std::string name = topic_name();
  switch (pick(12)) {
    case 0:
    case 1:
    case 2: {
      NewTopic t;
      t.name = name;
      t.partitions = 1 + pick(3);
      t.replication_factor = static_cast<int16_t>(1 + pick(3));
      if (pick(2)) t.configs["cleanup.policy"] = pick(2) ? "compact" : "delete";
      take("create_topic", create_topic(state, t, random_id()), state, out);
      break;
    }
    case 3:
      if (const TopicState* t = state.topic(name))
        take("create_partitions",
             create_partitions(state, name, static_cast<int32_t>(t->partitions.size()) + 1 + pick(2)), state, out);
      break;
    case 4:
    case 5:
    case 6: {
      records::ConfigRecord c;
      static const char* kKeys[] = {"retention.ms", "segment.bytes", "cleanup.policy", "min.insync.replicas"};
      c.name = kKeys[pick(4)];
      if (pick(3) == 0) {
        c.resource_type = kBrokerResource;
        c.resource_name = pick(2) ? std::to_string(1 + pick(kBrokers)) : "";  // "": the cluster default
      } else {
        if (state.topic(name) == nullptr) break;
        c.resource_type = kTopicResource;
        c.resource_name = name;
      }
      if (pick(4) == 0) c.value = std::nullopt;  // delete the key
      else c.value = std::to_string(1000 * (1 + pick(100)));
      take_records("alter_config", {records::AnyRecord{std::move(c)}}, state, out);
      break;
    }
    case 7:
    case 8:
      take("delete_topic", delete_topic(state, name), state, out);
      break;
    case 9: {
      auto b = state.brokers().find(1 + pick(kBrokers));
      if (b == state.brokers().end()) break;
      records::ProducerIdsRecord p;
      p.broker_id = b->first;
      p.broker_epoch = b->second.epoch;
      p.next_producer_id = state.next_producer_id() + 1000;
      take_records("producer_ids", {records::AnyRecord{std::move(p)}}, state, out);
      break;
    }
    case 10:
    case 11:
      raft_leader(state, name, out);
      break;
    default:
      break;
  }
}

void Workload::raft_leader(MetadataState& state, const std::string& name, std::vector<records::AnyRecord>& out) {
  const TopicState* t = state.topic(name);
  if (t == nullptr || t->partitions.empty()) return;
  auto p = t->partitions.find(pick(static_cast<int>(t->partitions.size())));
  if (p == t->partitions.end() || !led_by_raft(p->second)) return;
  const PartitionState& part = p->second;
  // A replica its group elected, in the partition's term or a later one, or
  // (a report that lost a race) an earlier one; the ISR it keeps.
  int32_t leader = part.replicas[static_cast<size_t>(pick(static_cast<int>(part.replicas.size())))];
  auto b = state.brokers().find(leader);
  if (b == state.brokers().end()) return;
  PartitionLeadership l{t->id, p->first, leader, part.leader_epoch + pick(3) - (pick(4) == 0 ? 2 : 0), {leader}};
  for (int32_t r : part.replicas)
    if (r != leader && pick(2)) l.isr.push_back(r);
  take("report_leadership", report_leadership(state, {leader, b->second.epoch, {l}}), state, out);
}

std::vector<records::AnyRecord> Workload::decide(int leader, int64_t term, MetadataState& state, int64_t next_offset,
                                                 int64_t commit, int64_t now_step, bool must) {
  std::vector<records::AnyRecord> out;
  Controller& c = controllers_[leader];
  if (c.term != term || !c.ctl) {  // a new controller: sessions start at its first look
    c.term = term;
    c.ctl = std::make_unique<BrokerControl>(kSessionMs);
  }
  if (state.features().empty()) {
    records::FeatureLevelRecord f;
    f.name = "metadata.version";
    f.feature_level = 20;
    take_records("feature_level", {records::AnyRecord{std::move(f)}}, state, out);
  }
  int64_t now_ms = now_step * kMsPerStep;
  brokers(*c.ctl, state, next_offset, commit, now_ms, out);
  if (pick(2) == 0) admin(state, out);
  if (out.empty() && must) out.emplace_back(records::NoOpRecord{});
  if (!out.empty()) {
    ++stats_.batches;
    stats_.records += out.size();
  }
  return out;
}

}  // namespace millrace::cluster::sim
