// SimCluster's fault injection: partitions, clogs, swizzle-clogs, a node
// isolated and brought back, crashes, membership changes, leadership
// transfers and log-start moves. Each is drawn from the run's rng at the
// rates in Knobs.
#include <algorithm>
#include <numeric>

#include "raft/sim/cluster.h"
#include "raft/sim/cluster_node.h"

namespace millrace::raft::sim {

namespace {
std::string list(const std::vector<int>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    out += std::to_string(v[i]);
  }
  out.push_back('}');
  return out;
}
}  // namespace

void SimCluster::inject_faults() {
  if (chance(knobs_.partition_rate)) partition();
  if (chance(knobs_.clog_rate)) clog();
  if (chance(knobs_.swizzle_rate)) swizzle();
  if (chance(knobs_.isolate_return_rate)) isolate_and_return();
  if (chance(knobs_.leader_clog_rate)) clog_leader();
  if (chance(knobs_.crash_rate) && down() < knobs_.max_down) {
    std::vector<Node*> up;
    for (auto& n : nodes_)
      if (n->up) up.push_back(n.get());
    if (!up.empty()) {
      Node* n = up[static_cast<size_t>(pick(static_cast<int>(up.size())))];
      crash(*n, "power loss");
      at(now_ + 10 + pick(knobs_.restart_within), [this, n] { if (!n->up) restart(*n); });
    }
  }
  if (chance(knobs_.member_rate)) change_membership();
  if (chance(knobs_.transfer_rate)) transfer();
  if (chance(knobs_.retention_rate)) move_log_start();
}

void SimCluster::partition() {
  int n = knobs_.nodes;
  int kind = pick(4);
  if (kind == 0) {  // heal every cut
    for (int a = 1; a <= n; ++a)
      for (int b = 1; b <= n; ++b) net_.block(a, b, false);
    note("partition healed");
    return;
  }
  if (kind == 1) {  // two sides, symmetric
    std::vector<int> left, right;
    for (int a = 1; a <= n; ++a) (pick(2) ? left : right).push_back(a);
    for (int a : left)
      for (int b : right) {
        net_.block(a, b, true);
        net_.block(b, a, true);
      }
    note("partition " + list(left) + " | " + list(right));
  } else if (kind == 2) {  // one node cannot receive (asymmetric)
    int x = 1 + pick(n);
    for (int a = 1; a <= n; ++a) net_.block(a, x, true);
    note("partition: node " + s(x) + " hears no one (it can still send)");
  } else {  // one random one-way link
    int a = 1 + pick(n), b = 1 + pick(n);
    if (a == b) return;
    net_.block(a, b, true);
    note("partition: link " + s(a) + "->" + s(b) + " cut");
  }
  int64_t heal_in = 50 + pick(600);
  at(now_ + heal_in, [this] {
    for (int a = 1; a <= knobs_.nodes; ++a)
      for (int b = 1; b <= knobs_.nodes; ++b) net_.block(a, b, false);
    note("partition healed");
  });
}

void SimCluster::clog() {
  int a = 1 + pick(knobs_.nodes), b = 1 + pick(knobs_.nodes);
  if (a == b || net_.clogged(a, b)) return;
  net_.clog(a, b, true);
  int64_t d = 20 + pick(300);
  note("clog " + s(a) + "->" + s(b) + " for " + s(d) + " steps");
  at(now_ + d, [this, a, b] {
    net_.clog(a, b, false);
    note("unclog " + s(a) + "->" + s(b));
  });
}

// Swizzle-clogging: clog random nodes one by one, then unclog them in a
// (different) random order.
void SimCluster::swizzle() {
  std::vector<int> order(static_cast<size_t>(knobs_.nodes));
  std::iota(order.begin(), order.end(), 1);
  std::shuffle(order.begin(), order.end(), rng_);
  order.resize(1 + static_cast<size_t>(pick(knobs_.nodes)));
  std::vector<int> unclog = order;
  std::shuffle(unclog.begin(), unclog.end(), rng_);
  note("swizzle: clog " + list(order) + " one by one, unclog " + list(unclog));
  int64_t t = now_;
  for (int x : order) {
    t += 5 + pick(60);
    at(t, [this, x] {
      net_.clog_node(x, true);
      note("swizzle: clog node " + s(x));
    });
  }
  for (int x : unclog) {
    t += 5 + pick(60);
    at(t, [this, x] {
      net_.clog_node(x, false);
      note("swizzle: unclog node " + s(x));
    });
  }
}

// A node cut off for a long while (it may campaign alone), then back: with
// PreVote and CheckQuorum it must not disrupt the leader it returns to.
void SimCluster::isolate_and_return() {
  int x = 1 + pick(knobs_.nodes);
  for (int a = 1; a <= knobs_.nodes; ++a) {
    if (a == x) continue;
    net_.block(a, x, true);
    net_.block(x, a, true);
  }
  int64_t d = 200 + pick(1200);
  note("isolate node " + s(x) + " for " + s(d) + " steps");
  at(now_ + d, [this, x] {
    for (int a = 1; a <= knobs_.nodes; ++a) {
      net_.block(a, x, false);
      net_.block(x, a, false);
    }
    note("node " + s(x) + " returns");
  });
}

// A deposed leader's appends arriving late: it takes a proposal, then all its
// links clog (what it sends waits) until others have elected and committed.
void SimCluster::clog_leader() {
  Node* l = leader();
  if (l == nullptr) return;
  for (int k = 0; k < 3; ++k) propose();
  int x = l->id;
  net_.clog_node(x, true);
  int64_t d = 150 + pick(400);
  note("clog every link of leader " + s(x) + " for " + s(d) + " steps");
  at(now_ + d, [this, x] {
    net_.clog_node(x, false);
    note("unclog node " + s(x));
  });
}

void SimCluster::change_membership() {
  Node* l = leader();
  if (l == nullptr) return;
  Config c = l->raft->config();
  if (c.joint()) return;
  std::vector<NodeId> outside;
  for (int i = 1; i <= knobs_.nodes; ++i)
    if (!c.is_voter(NodeId(i)) && !c.is_learner(NodeId(i))) outside.push_back(NodeId(i));
  Config t = c;
  int kind = pick(6);
  auto any = [this](const std::vector<NodeId>& v) { return v[static_cast<size_t>(pick(static_cast<int>(v.size())))]; };
  if (kind == 0 && !outside.empty()) {
    t.learners.push_back(any(outside));  // add a learner
  } else if (kind == 1 && !c.learners.empty() && c.voters.size() < 5) {
    NodeId x = any(c.learners);  // promote it
    std::erase(t.learners, x);
    t.voters.push_back(x);
  } else if (kind == 2 && c.voters.size() > 3) {
    NodeId x = any(c.voters);  // remove a voter (the leader too), or demote it
    std::erase(t.voters, x);
    if (pick(2)) t.learners.push_back(x);
  } else if (kind == 3 && !c.learners.empty()) {
    std::erase(t.learners, any(c.learners));
  } else if (kind >= 4 && c.learners.size() >= 2 && c.voters.size() == 3) {
    // Replace a majority at once: the leader keeps its seat, every learner
    // is promoted, the other voters are demoted. Joint consensus must still
    // ask the old majority; with `cut_old` the old-only voters are cut off
    // from the start, so a core that counts the new half alone commits
    // without them while they elect a leader of their own.
    t.voters = {NodeId(l->id)};
    t.learners.clear();
    for (NodeId x : c.learners) t.voters.push_back(x);
    std::vector<int> old_only;
    for (NodeId v : c.voters)
      if (v != NodeId(l->id)) {
        t.learners.push_back(v);
        old_only.push_back(v.value());
      }
    if (pick(2)) {
      for (int o : old_only)
        for (int a = 1; a <= knobs_.nodes; ++a)
          if (std::find(old_only.begin(), old_only.end(), a) == old_only.end()) {
            net_.block(a, o, true);
            net_.block(o, a, true);
          }
      note("partition: the old-only voters " + list(old_only) + " cut off during the replacement");
      at(now_ + 300 + pick(600), [this] {
        for (int a = 1; a <= knobs_.nodes; ++a)
          for (int b = 1; b <= knobs_.nodes; ++b) net_.block(a, b, false);
        note("partition healed");
      });
    }
  } else {
    return;
  }
  std::sort(t.voters.begin(), t.voters.end());
  std::sort(t.learners.begin(), t.learners.end());
  ProposeResult r = l->raft->propose_config(t);
  ++stats_.config_changes;
  note("node " + s(l->id) + " propose_config " + t.to_string() + ": " + to_string(r.error) +
       (r.ok() ? " at " + s(r.last.value()) : std::string()));
  drive(*l);
}

void SimCluster::transfer() {
  Node* l = leader();
  if (l == nullptr) return;
  const std::vector<NodeId>& v = l->raft->config().voters;
  NodeId to = v[static_cast<size_t>(pick(static_cast<int>(v.size())))];
  if (to == NodeId(l->id)) return;
  bool ok = l->raft->transfer_leadership(to);
  note("node " + s(l->id) + " transfers leadership to " + s(to.value()) + (ok ? "" : " (refused)"));
  drive(*l);
}

// Retention: a node's log start moves up, never past its commit index + 1.
void SimCluster::move_log_start() {
  Node& n = *nodes_[static_cast<size_t>(pick(knobs_.nodes))];
  if (!n.up) return;
  Index limit = n.raft->commit() + 1;
  std::vector<Index> starts;
  for (const Entry& e : n.log->all())
    if (e.first > n.log->start() && e.first <= limit) starts.push_back(e.first);
  if (n.log->last() + 1 <= limit && n.log->last() + 1 > n.log->start()) starts.push_back(n.log->last() + 1);
  if (starts.empty()) return;
  Index to = starts[static_cast<size_t>(pick(static_cast<int>(starts.size())))];
  if (app_ != nullptr && to != n.log->start()) app_->before_log_start(n.id, *n.log, to);
  if (n.log->move_start(to)) note("retention: node " + s(n.id) + " log start -> " + s(to.value()));
}

}  // namespace millrace::raft::sim
