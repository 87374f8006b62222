// A small randomized check of the core (the simulator in raft/sim is the real
// one): 3 or 5 nodes, messages delivered in random order, dropped and
// duplicated, ticks, proposals, restarts, transfers and learner changes,
// checked after every step for election safety and for committed entries
// that never change; after healing, commits must move again.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "raft/raft.h"
#include "raft/raft_test_util.h"

namespace millrace::raft::testing {
namespace {

struct Checker {
  std::map<Term, NodeId> leaders;                         // term -> leader
  std::map<int64_t, std::pair<Term, int64_t>> committed;  // last -> (term, first)
  std::map<int64_t, Term> committed_in;                   // last -> the observer's term then (>= the committing leader's)
  std::map<int, Index> checked;                           // node -> commit checked up to

  void check(Net& net, std::string* err) {
    for (auto& [i, t] : net.nodes) {
      Raft& r = *t.raft;
      if (r.role() == Role::kLeader) {
        auto [it, fresh] = leaders.emplace(r.term(), r.id());
        if (!fresh && it->second != r.id()) *err = "two leaders in term " + std::to_string(r.term().value());
        // Leader completeness: it holds every entry committed in an earlier term.
        for (const auto& [last, tf] : committed) {
          if (Index(last) < t.log->start() - 1 || committed_in[last] >= r.term()) continue;
          std::optional<Term> lt = t.log->term_at(Index(last));
          if (Index(last) > r.last_index() || (lt && *lt != tf.first) || (!lt && Index(last) <= t.log->last()))
            *err = "leader " + std::to_string(i) + " lacks committed entry " + std::to_string(last);
        }
      }
      Index from = checked.count(i) ? checked[i] : Index(-1);
      if (r.commit() <= from) continue;
      // Every committed entry this node holds must equal what anyone committed there.
      Index lo = std::max(from + 1, t.log->start());
      for (const Entry& e : t.log->all()) {
        if (e.last < lo || e.last > r.commit()) continue;
        auto [it, fresh] = committed.emplace(e.last.value(), std::make_pair(e.term, e.first.value()));
        if (fresh) committed_in[e.last.value()] = r.term();
        if (!fresh && (it->second.first != e.term || it->second.second != e.first.value()))
          *err = "committed entry at " + std::to_string(e.last.value()) + " differs on node " + std::to_string(i);
      }
      checked[i] = r.commit();
    }
  }
};

void run(uint64_t seed, int n, Durability d) {
  std::mt19937_64 rng(seed);
  auto chance = [&](int pct) { return static_cast<int>(rng() % 100) < pct; };
  Net net(n, [&](Options& o) {
    o.seed = seed;
    o.durability = d;
    o.max_inflight = 4;
    o.max_append_bytes = 64;
  });
  Checker ck;
  std::string err;
  for (int step = 0; step < 3000 && err.empty(); ++step) {
    int pick = static_cast<int>(rng() % 100);
    int node = 1 + static_cast<int>(rng() % n);
    if (pick < 40 && !net.queue.empty()) {
      size_t k = rng() % net.queue.size();  // reorder
      Message m = net.queue[k];
      if (!chance(10)) net.queue.erase(net.queue.begin() + static_cast<std::ptrdiff_t>(k));  // else duplicate
      if (!chance(10) && !net.blocked(m)) {
        net.r(m.to.value()).step(m);
        net.drive(m.to.value());
      }
    } else if (pick < 70) {
      net.tick(node);
    } else if (pick < 85) {
      int l = net.leader();
      if (l != 0) {
        net.r(l).propose(bytes_of(1 + rng() % 40), 1 + static_cast<int32_t>(rng() % 3));
        net.drive(l);
      }
    } else if (pick < 88) {
      net.restart(node);
    } else if (pick < 91) {
      if (net.cut.empty()) net.isolate(node);
      else net.cut.clear();
    } else if (pick < 93) {
      int l = net.leader();
      if (l != 0) {
        net.r(l).transfer_leadership(N(1 + static_cast<int>(rng() % n)));
        net.drive(l);
      }
    } else if (pick < 95) {
      int l = net.leader();
      if (l != 0) {
        // Any target: a random non-empty voter set, some of the rest learners.
        Config t;
        for (int i = 1; i <= n; ++i) {
          if (chance(60)) t.voters.push_back(N(i));
          else if (chance(50)) t.learners.push_back(N(i));
        }
        if (t.voters.empty()) t.voters.push_back(N(l));
        net.r(l).propose_config(t);
        net.drive(l);
      }
    } else {
      int l = net.leader();
      if (l != 0 && !net.log(l).all().empty()) {
        // Retention: move a log start, never past the commit index + 1.
        Index c = net.r(node).commit();
        for (const Entry& e : net.log(node).all())
          if (e.first <= c + 1 && chance(20)) {
            net.log(node).move_start(e.first);
            break;
          }
      }
    }
    ck.check(net, &err);
  }
  ASSERT_EQ(err, "") << "seed " << seed;
  // Liveness: heal, and commits must move.
  net.heal();
  net.queue.clear();
  net.tick_all(60);
  int l = net.leader();
  ASSERT_NE(l, 0) << "seed " << seed << ": no leader after healing";
  Index before = net.r(l).commit();
  ProposeResult p = net.r(l).propose(bytes_of(5));
  if (!p.ok()) {
    net.tick_all(30);  // a transfer may be running
    l = net.leader();
    ASSERT_NE(l, 0);
    p = net.r(l).propose(bytes_of(5));
  }
  ASSERT_TRUE(p.ok()) << "seed " << seed << " " << p.message;
  net.deliver();
  net.tick_all(5);
  EXPECT_GT(net.r(l).commit(), before) << "seed " << seed;
  EXPECT_GE(net.r(l).commit(), p.last) << "seed " << seed;
  ck.check(net, &err);
  ASSERT_EQ(err, "") << "seed " << seed;
}

TEST(RandomTest, ThreeNodesSynced) {
  for (uint64_t s = 1; s <= 150; ++s) run(s, 3, Durability::kSynced);
}

TEST(RandomTest, FiveNodesSynced) {
  for (uint64_t s = 1; s <= 100; ++s) run(s, 5, Durability::kSynced);
}

TEST(RandomTest, ThreeNodesInMemory) {
  for (uint64_t s = 1; s <= 100; ++s) run(s, 3, Durability::kInMemory);
}

}  // namespace
}  // namespace millrace::raft::testing
