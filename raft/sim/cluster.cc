// SimCluster: nodes, the driver loop, crash/restart, clients, the two phases.
// Fault injection is in faults.cc.
#include "raft/sim/cluster.h"

#include <algorithm>

#include "raft/sim/cluster_node.h"

namespace millrace::raft::sim {

SimCluster::SimCluster(uint64_t seed, const Knobs& knobs, Trace& trace, SimApp* app)
    : knobs_(knobs), app_(app), rng_(seed), trace_(trace), net_(knobs.nodes, rng_),
      checker_(knobs.nodes, knobs.durability == Durability::kSynced) {
  net_.faults = knobs.net;
  Config initial;
  for (int i = 1; i <= knobs.initial_voters; ++i) initial.voters.push_back(NodeId(i));
  for (int i = 1; i <= knobs.nodes; ++i) {
    auto n = std::make_unique<Node>();
    n->id = i;
    n->log = std::make_unique<SimLog>(initial);
    int skew = knobs.skew > 0 ? pick(2 * knobs.skew + 1) - knobs.skew : 0;
    n->period = kStepsPerTick + skew;
    nodes_.push_back(std::move(n));
  }
  for (auto& n : nodes_) restart(*n);
  note("start: " + s(knobs.nodes) + " nodes, " + initial.to_string());
}

SimCluster::~SimCluster() = default;

SimLog& SimCluster::log_for_test(int node) { return *nodes_[static_cast<size_t>(node - 1)]->log; }

void SimCluster::restart(Node& n) {
  Options o;
  o.id = NodeId(n.id);
  o.group = GroupId(1);
  o.election_ticks = 10;
  o.heartbeat_ticks = 1;
  o.pre_vote = knobs_.pre_vote;
  o.check_quorum = knobs_.check_quorum;
  o.max_append_bytes = knobs_.max_append_bytes;
  o.max_inflight = knobs_.max_inflight;
  o.durability = knobs_.durability;
  o.quiesce_ticks = knobs_.quiesce_ticks;
  o.seed = rng_();
#ifdef MILLRACE_RAFT_BUGS
  o.bug = static_cast<Bug>(knobs_.bug);
#endif
  n.raft = std::make_unique<Raft>(o, *n.log, n.hard);
  n.up = true;
  n.heard.clear();
  n.role = n.raft->role();
  n.term = n.raft->term();
  n.next_tick = now_ + 1 + pick(n.period);
  checker_.on_restart(n.id, *n.log, n.raft->commit());
  if (app_ != nullptr) app_->on_restart(n.id, *n.log, n.raft->commit());
  if (now_ > 0)
    note("restart node " + s(n.id) + ": term " + s(n.hard.term.value()) + " vote " + s(n.hard.vote.value()) +
         " log [" + s(n.log->start().value()) + ".." + s(n.log->last().value()) + "] commit " +
         s(n.raft->commit().value()));
}

void SimCluster::crash(Node& n, const std::string& why) {
  n.raft.reset();
  n.up = false;
  std::string lost = n.log->crash(rng_, true);
  ++stats_.crashes;
  note("CRASH node " + s(n.id) + " (" + why + "): " + lost + "; log now [" + s(n.log->start().value()) + ".." +
       s(n.log->last().value()) + "]");
}

int SimCluster::down() const {
  int d = 0;
  for (const auto& n : nodes_) d += n->up ? 0 : 1;
  return d;
}

SimCluster::Node* SimCluster::leader() {
  Node* best = nullptr;
  for (auto& n : nodes_)
    if (n->up && n->raft->role() == Role::kLeader && (!best || n->raft->term() > best->raft->term())) best = n.get();
  return best;
}

// raft.h's driver loop, in its order: install snapshot, truncate, append,
// persist hard state and sync, THEN send, then the commit, then advance.
void SimCluster::drive(Node& n) {
  while (n.up && n.raft->has_ready() && !checker_.failed() && error_.empty()) {
    Ready rd = n.raft->ready();
    if (rd.snapshot) {
      checker_.before_snapshot(n.id, *n.log, *rd.snapshot);
      note("node " + s(n.id) + " installs snapshot " + s(rd.snapshot->index.value()) + "@t" +
           s(rd.snapshot->term.value()));
      if (app_ != nullptr) app_->on_snapshot(n.id, *rd.snapshot);
      n.log->install_snapshot(*rd.snapshot);
    }
    if (rd.truncate_from) {
      checker_.before_truncate(n.id, *n.log, *rd.truncate_from);
      note("node " + s(n.id) + " truncates from " + s(rd.truncate_from->value()));
      n.log->truncate_suffix(*rd.truncate_from);
    }
    if (!rd.entries.empty() && !n.log->append(rd.entries)) {
      error_ = "node " + s(n.id) + ": the core asked to append [" + s(rd.entries.front().first.value()) + ".." +
               s(rd.entries.back().last.value()) + "] which does not continue its log (last " +
               s(n.log->last().value()) + ")";
      return;
    }
    if ((rd.must_sync || rd.hard_state) && faults_on_ && down() < knobs_.max_down && chance(knobs_.write_crash_rate)) {
      crash(n, "power loss in the middle of a write");
      at(now_ + 20 + pick(200), [this, &n] { if (!n.up) restart(n); });
      return;
    }
    if (rd.must_sync) n.log->sync();
    if (rd.hard_state && faults_on_ && down() < knobs_.max_down && chance(knobs_.write_crash_rate)) {
      // Between the two files: the log is synced, the term/vote file is not.
      crash(n, "power loss between the log sync and the term/vote file");
      at(now_ + 20 + pick(200), [this, &n] { if (!n.up) restart(n); });
      return;
    }
    if (rd.hard_state) n.hard = *rd.hard_state;  // the term/vote file: written and synced (after the log)
    for (Message& m : rd.messages) net_.send(std::move(m), now_);
    if (rd.soft_state) {
      note("node " + s(n.id) + " is " + to_string(rd.soft_state->role) + " term " + s(rd.soft_state->term.value()) +
           " leader " + s(rd.soft_state->leader.value()));
    }
    if (rd.commit) {
      if (n.raft->role() == Role::kLeader) checker_.on_leader_commit(n.id, n.raft->term(), *rd.commit, *n.log);
      checker_.on_commit(n.id, n.raft->term(), *rd.commit, *n.log);
      if (app_ != nullptr) app_->on_commit(n.id, *rd.commit, *n.log);
      if (trace_.live()) note("node " + s(n.id) + " commit " + s(rd.commit->value()));
    }
    n.raft->advance(rd);
    if (n.raft->role() == Role::kLeader && (n.role != Role::kLeader || n.term != n.raft->term())) {
      ++stats_.elections;
      note("node " + s(n.id) + " LEADER of term " + s(n.raft->term().value()) + " log [" +
           s(n.log->start().value()) + ".." + s(n.log->last().value()) + "] " + n.raft->config().to_string());
      checker_.on_leader(n.id, n.raft->term(), *n.log);
      if (faults_on_ && knobs_.leader_crash_pct > 0 && pick(100) < knobs_.leader_crash_pct) {
        Node* x = &n;
        Term t = n.raft->term();
        at(now_ + 1 + pick(knobs_.leader_crash_within), [this, x, t] {
          if (!faults_on_ || !x->up || x->raft->term() != t || down() >= knobs_.max_down) return;
          crash(*x, "leader power loss soon after its election");
          at(now_ + 10 + pick(knobs_.restart_within), [this, x] { if (!x->up) restart(*x); });
        });
      }
    }
    n.role = n.raft->role();
    n.term = n.raft->term();
    if (rd.commit && n.role == Role::kLeader) observe_acks(n);
  }
}

// A proposal is acknowledged when the leader sees its index committed with
// the proposal's term there.
void SimCluster::observe_acks(Node& l) {
  Index commit = l.raft->commit();
  while (!pending_.empty() && pending_.begin()->first <= commit) {
    auto it = pending_.begin();
    const Entry* e = l.log->find(it->first);
    if (e != nullptr && e->term == it->second.term && e->data == it->second.data) {
      ++stats_.acked;
      checker_.on_ack(it->second.id, it->first, it->second.term, it->second.data);
      if (trace_.live()) note("ack proposal " + s(static_cast<int64_t>(it->second.id)) + " at " + s(it->first.value()));
    }
    pending_.erase(it);  // acknowledged, or lost (another entry committed there)
  }
}

void SimCluster::propose() {
  Node* l = leader();
  if (l == nullptr) return;
  uint64_t id = next_id_++;
  if (app_ != nullptr) {
    std::optional<AppProposal> p = app_->propose(l->id, l->raft->term(), *l->log, l->raft->commit(), now_, false);
    if (!p) return;
    ProposeResult r = l->raft->propose(p->data, p->records);
    ++stats_.proposals;
    if (r.ok()) pending_.emplace(r.last, Pending{id, r.term, p->data});
    drive(*l);
    return;
  }
  std::vector<uint8_t> bytes(8 + static_cast<size_t>(pick(24)), static_cast<uint8_t>(id));
  for (int k = 0; k < 8; ++k) bytes[static_cast<size_t>(k)] = static_cast<uint8_t>(id >> (8 * k));
  auto data = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  ProposeResult r = l->raft->propose(data, 1 + pick(3));
  ++stats_.proposals;
  if (r.ok()) {
    pending_.emplace(r.last, Pending{id, r.term, data});
    if (trace_.live()) note("propose " + s(static_cast<int64_t>(id)) + " to node " + s(l->id) + ": " + s(r.last.value()) + "@t" + s(r.term.value()));
  }
  drive(*l);
}

void SimCluster::check() {
  std::vector<const SimLog*> logs;
  std::vector<int32_t> leader_terms;
  for (const auto& n : nodes_) {
    logs.push_back(n->log.get());
    leader_terms.push_back(n->up && n->raft->role() == Role::kLeader ? n->raft->term().value() : -1);
  }
  checker_.check_step(logs, leader_terms);
}

void SimCluster::step(bool faults) {
  bool changed = false;
  while (!schedule_.empty() && schedule_.begin()->first <= now_) {
    auto action = std::move(schedule_.begin()->second);
    schedule_.erase(schedule_.begin());
    action();
    changed = true;
  }
  while (std::optional<Message> m = net_.next(now_)) {
    Node& n = *nodes_[static_cast<size_t>(m->to.value() - 1)];
    if (!n.up) continue;
    n.heard[static_cast<int>(m->from.value())] = now_;
    if (m->group == GroupId(0)) continue;  // a node-liveness beat, not Raft's
    if (trace_.live() || m->type != MessageType::kHeartbeat) note("deliver " + m->to_string());
    n.raft->step(*m);
    drive(n);
    changed = true;
    if (!error().empty()) return;
  }
  for (auto& n : nodes_) {
    if (!n->up || now_ < n->next_tick) continue;
    if (knobs_.quiesce_ticks > 0) liveness(*n);
    n->raft->tick();
    n->next_tick += n->period;
    drive(*n);
    changed = true;
  }
  // With quiescence, clients pause every other 40 ticks: idle groups quiesce,
  // and faults meet them quiescent.
  const bool clients_idle = knobs_.quiesce_ticks > 0 && (now_ / (40 * kStepsPerTick)) % 2 == 1;
  if (!clients_idle && chance(knobs_.propose_rate)) {
    propose();
    changed = true;
  }
  if (faults) inject_faults();
  if (changed) check();
  ++now_;
  ++stats_.steps;
}

void SimCluster::liveness(Node& n) {
  if (now_ >= n.next_beat) {
    for (const auto& peer : nodes_) {
      if (peer->id == n.id) continue;
      Message b;
      b.group = GroupId(0);
      b.from = NodeId(n.id);
      b.to = NodeId(peer->id);
      b.type = MessageType::kHeartbeat;
      net_.send(std::move(b), now_);
    }
    n.next_beat = now_ + 3 * kStepsPerTick;
  }
  const int leader = static_cast<int>(n.raft->leader().value());
  if (!n.raft->quiesced() || n.raft->role() == Role::kLeader || leader <= 0 || leader == n.id) return;
  auto [it, fresh] = n.heard.try_emplace(leader, now_);
  if (!fresh && now_ - it->second >= 10 * kStepsPerTick) {
    note("wake node " + s(n.id) + ": leader " + s(leader) + "'s node silent");
    n.raft->wake();
    ++stats_.wakes;
  }
}

bool SimCluster::run_safety(int64_t ticks) {
  int64_t end = now_ + ticks * kStepsPerTick;
  while (now_ < end && error().empty()) step(true);
  return error().empty();
}

bool SimCluster::run_liveness(int64_t max_ticks) {
  schedule_.clear();
  faults_on_ = false;
  net_.heal();
  net_.faults.max_delay = 5;
  for (auto& n : nodes_)
    if (!n->up) restart(*n);
  note("HEAL: all nodes up, network whole, no clogs; a new proposal must commit within " + s(max_ticks) + " ticks");
  int64_t end = now_ + max_ticks * kStepsPerTick;
  Index before = checker_.highest_commit();
  std::optional<ProposeResult> p;
  Node* pl = nullptr;
  while (now_ < end && error().empty()) {
    Node* l = leader();
    if (l != nullptr && (!p || l != pl || l->raft->term() != p->term) && now_ % kStepsPerTick == 0) {
      Payload data = std::make_shared<const std::vector<uint8_t>>(8, 0xAB);
      int32_t records = 1;
      if (app_ != nullptr) {
        std::optional<AppProposal> ap = app_->propose(l->id, l->raft->term(), *l->log, l->raft->commit(), now_, true);
        if (ap) {
          data = ap->data;
          records = ap->records;
        }
      }
      ProposeResult r = l->raft->propose(data, records);
      if (r.ok()) {
        p = r;
        pl = l;
        note("liveness proposal to node " + s(l->id) + ": " + s(r.last.value()) + "@t" + s(r.term.value()));
      }
      drive(*l);
    }
    step(false);
    if (p && pl->up && pl->raft->commit() >= p->last && pl->log->find(p->last) &&
        pl->log->find(p->last)->term == p->term) {
      // pl may have lost the lead since: check what it has committed.
      checker_.check_acked_in(pl->id, *pl->log, pl->raft->commit());
      if (knobs_.durability == Durability::kSynced && pl->raft->commit() < before)
        error_ = "liveness: the cluster's commit index went back to " + s(pl->raft->commit().value()) + " from " + s(before.value());
      note("liveness proposal committed at " + s(p->last.value()));
      return error().empty();
    }
  }
  if (error().empty()) error_ = "liveness: nothing new committed within " + s(max_ticks) + " ticks after healing";
  return false;
}

std::string SimCluster::describe() const {
  std::string out;
  for (const auto& n : nodes_) {
    out += "  node " + s(n->id) + (n->up ? " up   " : " DOWN ");
    if (n->up)
      out += std::string(to_string(n->raft->role())) + " term " + s(n->raft->term().value()) + " commit " +
             s(n->raft->commit().value()) + " " + n->raft->config().to_string();
    out += " log [" + s(n->log->start().value()) + ".." + s(n->log->last().value()) + "] unsynced " +
           s(static_cast<int64_t>(n->log->unsynced_writes())) + "\n";
  }
  return out;
}

}  // namespace millrace::raft::sim
