// The simulator's network (raft/sim): messages between node ids 1..n, each
// delivered after a random delay (in steps; a node ticks every ~10 steps),
// possibly dropped or duplicated, so reordered freely. Faults on top:
//   blocked links  partitions, symmetric or one-way (checked at send and at
//                  delivery: a message in flight when a link is cut is lost)
//   clogged links  everything on the link waits until it is unclogged
// Deterministic: one rng owned by the run; ties broken by send order.
//
// Threading: none; owned by one run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "raft/message.h"

namespace millrace::raft::sim {

struct NetworkFaults {
  int drop_pct = 0;       // per message, percent
  int dup_pct = 0;        // per message, percent
  int min_delay = 1;      // steps
  int max_delay = 8;      // steps
  int slow_pct = 0;       // percent of messages delayed up to slow_delay more
  int slow_delay = 40;
};

class SimNetwork {
 public:
  SimNetwork(int nodes, std::mt19937_64& rng) : n_(nodes), rng_(rng), blocked_(cells(), false), clogged_(cells(), false) {}

  NetworkFaults faults;

  // Returns false when the message was lost at once (blocked or dropped).
  bool send(Message m, int64_t now);
  // The next message due at or before `now` on an open link, if any.
  // Messages on clogged links are held back; messages on cut links are lost.
  std::optional<Message> next(int64_t now);

  void block(int from, int to, bool b) { blocked_[cell(from, to)] = b; }
  bool blocked(int from, int to) const { return blocked_[cell(from, to)]; }
  void clog(int from, int to, bool c) { clogged_[cell(from, to)] = c; }
  bool clogged(int from, int to) const { return clogged_[cell(from, to)]; }
  // Clog or unclog every link into and out of `node`.
  void clog_node(int node, bool c);
  void heal();  // no blocked or clogged link; faults back to none
  bool whole() const;
  size_t in_flight() const { return queue_.size(); }
  uint64_t delivered = 0, dropped = 0, duplicated = 0;

 private:
  size_t cells() const { return static_cast<size_t>((n_ + 1) * (n_ + 1)); }
  size_t cell(int from, int to) const { return static_cast<size_t>(from * (n_ + 1) + to); }
  bool bad(int id) const { return id < 1 || id > n_; }
  int64_t delay();

  int n_;
  std::mt19937_64& rng_;
  std::vector<bool> blocked_;
  std::vector<bool> clogged_;
  uint64_t seq_ = 0;
  std::map<std::pair<int64_t, uint64_t>, Message> queue_;  // (due step, send order)
};

}  // namespace millrace::raft::sim
