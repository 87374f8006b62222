// Test harness for the core's unit tests: a handful of Raft nodes over
// MemoryLogs, wired by hand through a tiny network that delivers messages in
// order, and can cut links, drop message types and hold messages back. Each
// node is driven exactly as raft.h's driver loop says (install, truncate,
// append, persist hard state, sync, send, advance). Test-only.
#pragma once

#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "raft/raft.h"
#include "raft/testing/memory_log.h"

namespace millrace::raft::testing {

inline NodeId N(int i) { return NodeId(i); }

inline Payload bytes_of(size_t n, uint8_t fill = 'x') {
  return std::make_shared<const std::vector<uint8_t>>(n, fill);
}

struct TestNode {
  std::unique_ptr<MemoryLog> log;
  HardState hard;  // as persisted
  std::unique_ptr<Raft> raft;
  Options opts;
  size_t readies = 0;
  size_t synced_readies = 0;
};

class Net {
 public:
  // Nodes 1..n, all voters unless listed as learners.
  explicit Net(int n, std::function<void(Options&)> tune = nullptr, std::vector<int> learners = {}) {
    Config c;
    for (int i = 1; i <= n; ++i) {
      if (std::find(learners.begin(), learners.end(), i) != learners.end()) c.learners.push_back(N(i));
      else c.voters.push_back(N(i));
    }
    for (int i = 1; i <= n; ++i) add(i, c, tune);
  }

  void add(int i, const Config& c, std::function<void(Options&)> tune = nullptr) {
    TestNode& t = nodes[i];
    t.log = std::make_unique<MemoryLog>(c);
    t.opts.id = N(i);
    t.opts.election_ticks = 10;
    t.opts.heartbeat_ticks = 1;
    t.opts.seed = 42;
    if (tune) tune(t.opts);
    t.raft = std::make_unique<Raft>(t.opts, *t.log, HardState{});
  }

  // Replaces node i by one whose log holds `entries` (terms as given) after
  // the config, with hard state `hs`.
  void seed(int i, const Config& c, const std::vector<std::pair<int, Term>>& entries, HardState hs) {
    TestNode& t = nodes[i];
    t.log = std::make_unique<MemoryLog>(c);
    std::vector<Entry> es;
    Index next{0};
    for (auto [records, term] : entries) {
      Entry e;
      e.first = next;
      e.last = next + (records - 1);
      e.term = term;
      e.data = bytes_of(10);
      next = e.last + 1;
      es.push_back(e);
    }
    EXPECT_TRUE(t.log->append(es));
    t.hard = hs;
    t.raft = std::make_unique<Raft>(t.opts, *t.log, hs);
  }

  // Restart node i from its log and persisted hard state (nothing in flight).
  void restart(int i) {
    TestNode& t = nodes[i];
    t.raft = std::make_unique<Raft>(t.opts, *t.log, t.hard);
  }

  Raft& r(int i) { return *nodes.at(i).raft; }
  MemoryLog& log(int i) { return *nodes.at(i).log; }

  // Runs node i's Ready loop; messages go to the queue (or the hold list).
  void drive(int i) {
    TestNode& t = nodes.at(i);
    while (t.raft->has_ready()) {
      Ready rd = t.raft->ready();
      ++t.readies;
      if (rd.snapshot) {
        EXPECT_TRUE(t.log->install_snapshot(*rd.snapshot));
      }
      if (rd.truncate_from) {
        EXPECT_TRUE(t.log->truncate_suffix(*rd.truncate_from));
      }
      if (!rd.entries.empty()) {
        EXPECT_TRUE(t.log->append(rd.entries));
      }
      if (rd.hard_state) t.hard = *rd.hard_state;
      if (rd.must_sync) {
        t.log->sync();
        ++t.synced_readies;
      }
      for (Message& m : rd.messages) {
        sent.push_back(m);
        queue.push_back(std::move(m));
      }
      last_ready[i] = rd;
      readies.emplace_back(i, rd);
      t.raft->advance(rd);
    }
  }

  void drive_all() {
    for (auto& [i, t] : nodes) drive(i);
  }

  bool blocked(const Message& m) const {
    int f = m.from.value(), to = m.to.value();
    if (down.count(to) || down.count(f)) return true;
    if (cut.count({f, to})) return true;
    if (drop_types.count(m.type)) return true;
    if (drop && drop(m)) return true;
    return false;
  }

  // Delivers everything until the network is quiet (or `max` messages).
  size_t deliver(size_t max = 100000) {
    size_t n = 0;
    drive_all();
    while (!queue.empty() && n < max) {
      Message m = std::move(queue.front());
      queue.pop_front();
      ++n;
      if (blocked(m)) continue;
      if (!nodes.count(m.to.value())) continue;
      if (trace) std::fprintf(stderr, "  %s\n", m.to_string().c_str());
      r(m.to.value()).step(m);
      drive(m.to.value());
    }
    return n;
  }

  void tick(int i, int times = 1) {
    for (int k = 0; k < times; ++k) {
      r(i).tick();
      drive(i);
    }
  }
  // Ticks every (up) node once per round, delivering after each round.
  void tick_all(int rounds = 1) {
    for (int k = 0; k < rounds; ++k) {
      for (auto& [i, t] : nodes)
        if (!down.count(i)) {
          t.raft->tick();
          drive(i);
        }
      deliver();
    }
  }

  void elect(int i) {
    r(i).campaign();
    deliver();
  }

  void isolate(int i) {
    for (auto& [j, t] : nodes)
      if (j != i) {
        cut.insert({i, j});
        cut.insert({j, i});
      }
  }
  void heal() { cut.clear(); drop_types.clear(); drop = nullptr; }

  int leader() {
    int found = 0;
    for (auto& [i, t] : nodes)
      if (!down.count(i) && t.raft->role() == Role::kLeader) {
        if (found == 0 || t.raft->term() > r(found).term()) found = i;
      }
    return found;
  }

  ProposeResult propose(int i, size_t bytes = 10, int32_t records = 1) {
    ProposeResult res = r(i).propose(bytes_of(bytes), records);
    deliver();
    return res;
  }

  std::map<int, TestNode> nodes;
  std::deque<Message> queue;
  std::vector<Message> sent;  // everything ever sent (for counting)
  std::map<int, Ready> last_ready;
  std::vector<std::pair<int, Ready>> readies;  // every Ready, in order
  std::set<std::pair<int, int>> cut;
  std::set<int> down;
  std::set<MessageType> drop_types;
  std::function<bool(const Message&)> drop;
  bool trace = false;  // print every delivered message (debugging)
};

}  // namespace millrace::raft::testing
