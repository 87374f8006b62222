#include "raft/sim/sim_network.h"

#include <algorithm>

namespace millrace::raft::sim {

int64_t SimNetwork::delay() {
  int64_t d = faults.min_delay + static_cast<int64_t>(rng_() % static_cast<uint64_t>(std::max(1, faults.max_delay - faults.min_delay + 1)));
  if (faults.slow_pct > 0 && static_cast<int>(rng_() % 100) < faults.slow_pct)
    d += static_cast<int64_t>(rng_() % static_cast<uint64_t>(faults.slow_delay + 1));
  return d;
}

bool SimNetwork::send(Message m, int64_t now) {
  int from = m.from.value(), to = m.to.value();
  if (bad(from) || bad(to) || blocked(from, to)) {
    ++dropped;
    return false;
  }
  if (faults.drop_pct > 0 && static_cast<int>(rng_() % 100) < faults.drop_pct) {
    ++dropped;
    return false;
  }
  if (faults.dup_pct > 0 && static_cast<int>(rng_() % 100) < faults.dup_pct) {
    ++duplicated;
    queue_.emplace(std::make_pair(now + delay(), seq_++), m);
  }
  queue_.emplace(std::make_pair(now + delay(), seq_++), std::move(m));
  return true;
}

std::optional<Message> SimNetwork::next(int64_t now) {
  for (auto it = queue_.begin(); it != queue_.end() && it->first.first <= now;) {
    int from = it->second.from.value(), to = it->second.to.value();
    if (blocked(from, to)) {
      ++dropped;
      it = queue_.erase(it);
      continue;
    }
    if (clogged(from, to)) {
      ++it;  // held until unclogged
      continue;
    }
    Message m = std::move(it->second);
    queue_.erase(it);
    ++delivered;
    return m;
  }
  return std::nullopt;
}

void SimNetwork::clog_node(int node, bool c) {
  for (int o = 1; o <= n_; ++o) {
    if (o == node) continue;
    clog(node, o, c);
    clog(o, node, c);
  }
}

void SimNetwork::heal() {
  std::fill(blocked_.begin(), blocked_.end(), false);
  std::fill(clogged_.begin(), clogged_.end(), false);
  faults = NetworkFaults{};
}

bool SimNetwork::whole() const {
  return std::find(blocked_.begin(), blocked_.end(), true) == blocked_.end() &&
         std::find(clogged_.begin(), clogged_.end(), true) == clogged_.end();
}

}  // namespace millrace::raft::sim
