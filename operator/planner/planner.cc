#include "operator/planner/planner.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

namespace millrace::op::planner {

bool Reassignment::leader_only() const {
  return std::set<BrokerId>(from.begin(), from.end()) == std::set<BrokerId>(to.begin(), to.end());
}

namespace {

// kTopics is measured per topic and broker (State::tcount_), not in a broker's
// Values: its slot there stays 0.
enum Goal { kReplicas = 0, kTopics = 1, kBytes = 2, kLeaders = 3, kLoad = 4, kGoals = 5 };
constexpr const char* kGoalNames[kGoals] = {"replicas", "topic-replicas", "bytes", "leaders", "load"};
constexpr double kEps = 1e-9;

using Values = std::array<double, kGoals>;

double sq(double x) { return x * x; }

std::string name_of(const Partition& p) { return p.topic + "-" + std::to_string(p.partition); }

// One candidate action on one or two partitions; it changes the values of two
// brokers only: dst gains d, src loses it. No replica list is built until the
// action is applied (the search weighs many).
struct Action {
  enum Kind { kMove, kSwap, kLead } kind = kMove;
  int p = -1;        // kMove: p's replica at ppos goes to dst; kLead: p's replica at ppos leads
  size_t ppos = 0;
  int q = -1;        // kSwap: also q's replica at qpos goes to src
  size_t qpos = 0;
  int src = -1, dst = -1;
  Values d{};
  int64_t bytes = 0;  // data copied
};

// How an action scores for the goal being optimised (lower is better).
struct Score {
  double excess = 0, variance = 0, later = 0;
  int64_t bytes = 0;
  bool operator<(const Score& o) const {
    if (std::abs(excess - o.excess) > kEps) return excess < o.excess;
    if (std::abs(variance - o.variance) > kEps) return variance < o.variance;
    if (std::abs(later - o.later) > kEps) return later < o.later;
    return bytes < o.bytes;
  }
};

class State {
 public:
  State(const Cluster& c, const Options& o) : opts_(o) {
    std::map<std::string, int> rack_ids;
    for (const Broker& br : c.brokers) {
      index_[br.id] = static_cast<int>(brokers_.size());
      B b;
      b.id = br.id;
      b.rack_name = br.rack;
      b.rack = rack_ids.emplace(br.rack, static_cast<int>(rack_ids.size())).first->second;
      b.removed = o.mode == Mode::kRemoveBrokers && o.brokers.count(br.id);
      b.dest = !b.removed && (o.mode != Mode::kAddBrokers || o.brokers.count(br.id));
      brokers_.push_back(b);
    }
    std::set<int> dest_racks;
    for (const B& b : brokers_)
      if (b.dest) dest_racks.insert(b.rack);
    racks_ = std::max<int>(1, static_cast<int>(dest_racks.size()));
    std::map<std::string, int> topic_ids;
    for (const Partition& p : c.partitions) {
      P w;
      w.src = &p;
      w.topic = topic_ids.emplace(p.topic, static_cast<int>(topic_ids.size())).first->second;
      w.movable = !o.excluded_topics.count(p.topic);
      for (BrokerId id : p.replicas) w.reps.push_back(index_.at(id));
      auto pref = o.preferred_leader_racks.find(p.topic);
      if (pref != o.preferred_leader_racks.end() && !pref->second.empty()) w.prefs = &pref->second;
      parts_.push_back(std::move(w));
    }
    topics_.resize(topic_ids.size());
    for (T& t : topics_) t.count.assign(brokers_.size(), 0);
    for (int i = 0; i < static_cast<int>(parts_.size()); ++i) add(i, +1);
    int counted = 0;
    Values total{};
    for (const B& b : brokers_) {
      if (b.removed) continue;
      ++counted;
      for (int g = 0; g < kGoals; ++g) total[g] += b.v[g];
    }
    // What the removed brokers hold now ends on the others.
    for (const B& b : brokers_)
      if (b.removed)
        for (int g = 0; g < kGoals; ++g) total[g] += b.v[g];
    for (int g = 0; g < kGoals; ++g) {
      mean_[g] = counted ? total[g] / counted : 0;
      if (g == kReplicas || g == kLeaders) {
        lo_[g] = std::floor(mean_[g] + kEps) - o.count_tolerance;
        hi_[g] = std::ceil(mean_[g] - kEps) + o.count_tolerance;
      } else {
        lo_[g] = mean_[g] * (1 - o.band);
        hi_[g] = mean_[g] * (1 + o.band);
      }
      scale_[g] = 1 / std::max(1.0, sq(mean_[g]));
    }
    // Per topic, the same band as replicas: its replicas over the counted brokers.
    for (const P& w : parts_) topics_[w.topic].replicas += static_cast<double>(w.reps.size());
    for (T& t : topics_) {
      t.mean = counted ? t.replicas / counted : 0;
      t.lo = std::floor(t.mean + kEps) - o.count_tolerance;
      t.hi = std::ceil(t.mean - kEps) + o.count_tolerance;
      t.scale = 1 / std::max(1.0, sq(t.mean));
    }
  }

  // ---- the phases ----

  void drain(std::vector<std::string>& problems) {
    std::vector<int> order;
    for (int i = 0; i < static_cast<int>(parts_.size()); ++i) order.push_back(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return parts_[a].src->bytes > parts_[b].src->bytes; });
    for (int i : order) {
      for (size_t pos = 0; pos < parts_[i].reps.size(); ++pos) {
        const int from = parts_[i].reps[pos];
        if (!brokers_[from].removed) continue;
        if (!parts_[i].movable) {
          problems.push_back("cannot drain broker " + std::to_string(brokers_[from].id) + ": topic " +
                             parts_[i].src->topic + " is excluded from rebalancing and has partition " +
                             std::to_string(parts_[i].src->partition) + " on it");
          continue;
        }
        std::optional<std::pair<Score, Action>> best;
        for (int to = 0; to < static_cast<int>(brokers_.size()); ++to) {
          if (!can_receive(i, to)) continue;
          Action a = move_action(i, pos, to);
          Score s = score_drain(a);
          s.excess += violation_after(i, pos, to) * 1e6;  // racks kept where any broker keeps them
          if (!best || s < best->first) best = std::make_pair(s, a);
        }
        if (!best) {
          problems.push_back("cannot drain broker " + std::to_string(brokers_[from].id) + ": partition " +
                             name_of(*parts_[i].src) + " has replication factor " +
                             std::to_string(parts_[i].reps.size()) + " and no other broker can take a replica");
          continue;
        }
        apply(best->second);
      }
    }
  }

  // Partitions with more replicas in one rack than ceil(RF / racks): moved to a
  // rack below that, onto the eligible broker that suits the goals best.
  void fix_racks() {
    for (int i = 0; i < static_cast<int>(parts_.size()); ++i) {
      if (!parts_[i].movable) continue;
      for (int guard = 0; guard < 8 && violation(parts_[i].reps) > 0; ++guard) {
        std::optional<std::pair<Score, Action>> best;
        for (size_t pos = 0; pos < parts_[i].reps.size(); ++pos)
          for (int to = 0; to < static_cast<int>(brokers_.size()); ++to) {
            if (!can_receive(i, to)) continue;
            Action a = move_action(i, pos, to);
            const int after = violation_after(i, pos, to);
            if (after >= violation(parts_[i].reps)) continue;
            if (!leader_pref_kept(i, after_p(a))) continue;
            Score s = score_drain(a);
            s.excess += after * 1e6;  // the fewest violations first
            if (!best || s < best->first) best = std::make_pair(s, a);
          }
        if (!best) break;
        apply(best->second);
      }
    }
  }

  // Preferred leader racks: a topic that names them leads from the best one a
  // replica is in.
  void place_preferred_leaders() {
    for (int i = 0; i < static_cast<int>(parts_.size()); ++i) {
      P& w = parts_[i];
      if (!w.prefs || !w.movable || w.reps.empty()) continue;
      size_t best = 0;
      for (size_t k = 1; k < w.reps.size(); ++k)
        if (rank(w, w.reps[k]) < rank(w, w.reps[best])) best = k;
      if (best == 0 || rank(w, w.reps[best]) == rank(w, w.reps[0])) continue;
      apply(leader_action(i, best));
    }
  }

  // One goal: the best acceptable action, again and again, until the goal is in
  // band or nothing helps. Returns whether it ended in band.
  bool optimise(int g) {
    if (g == kTopics) return optimise_topics();
    if (!active(g)) return true;  // nothing to balance (no bytes, no traffic)
    for (int n = 0; n < opts_.max_actions_per_goal && excess(g) > kEps; ++n) {
      std::optional<std::pair<Score, Action>> best;
      auto consider = [&](Action&& a) {
        auto s = evaluate(a, g);
        if (s && (!best || *s < best->first)) best = std::make_pair(*s, std::move(a));
      };
      std::vector<int> order;
      for (int b = 0; b < static_cast<int>(brokers_.size()); ++b)
        if (!brokers_[b].removed) order.push_back(b);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return brokers_[a].v[g] > brokers_[b].v[g]; });
      // The most loaded brokers give, the least loaded take.
      // Two of each (leaders: every broker below the mean, the swaps are few).
      std::vector<int> srcs, dsts;
      const size_t wide = g == kLeaders ? order.size() : 2;
      for (int b : order)
        if (brokers_[b].v[g] > mean_[g] + kEps && srcs.size() < 2) srcs.push_back(b);
      for (auto it = order.rbegin(); it != order.rend(); ++it)
        if (brokers_[*it].v[g] < mean_[g] - kEps && dsts.size() < wide &&
            (g == kLeaders || g == kLoad || brokers_[*it].dest))
          dsts.push_back(*it);
      // The partitions each of them holds, in one pass.
      std::vector<std::vector<int>> held(brokers_.size());
      std::vector<char> wanted(brokers_.size(), 0);
      for (int b : srcs) wanted[b] = 1;
      for (int b : dsts) wanted[b] = 1;
      for (int i = 0; i < static_cast<int>(parts_.size()); ++i)
        if (parts_[i].movable)
          for (int b : parts_[i].reps)
            if (wanted[b]) held[b].push_back(i);
      for (int src : srcs)
        for (int dst : dsts) {
          if (brokers_[src].v[g] <= brokers_[dst].v[g] + kEps) continue;
          if (g == kLeaders || g == kLoad) leader_actions(held[src], src, dst, consider);
          if (g != kLeaders && brokers_[dst].dest) move_actions(held[src], src, dst, consider);
          if ((g == kBytes || g == kLoad) && opts_.mode != Mode::kAddBrokers && brokers_[dst].dest &&
              brokers_[src].dest)
            swap_actions(held[src], held[dst], src, dst, g, consider);
        }
      if (!best && g == kLeaders && leader_path()) continue;
      if (!best) break;
      apply(best->second);
    }
    return excess(g) <= kEps;
  }

  // The topic goal: the topic furthest out of band first; from a broker with
  // more than its mean to one with fewer, a replica of it moves, or trades
  // places with a replica of another topic (which keeps both brokers' replica
  // counts: the usual fix when the totals are already balanced). Candidates are
  // bounded (kTopicCandidates of the topic, as many per other topic) so that
  // clusters with many topics stay fast. Returns whether it ended in band.
  bool optimise_topics() {
    constexpr size_t kTopicCandidates = 8;
    for (int n = 0; n < opts_.max_actions_per_goal && excess(kTopics) > kEps; ++n) {
      std::vector<int> order;  // topics out of band, the worst first
      for (int t = 0; t < static_cast<int>(topics_.size()); ++t)
        if (topic_excess(t) > kEps) order.push_back(t);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return topic_excess(a) > topic_excess(b); });
      std::optional<std::pair<Score, Action>> best;
      auto consider = [&](Action&& a) {
        auto s = evaluate(a, kTopics);
        if (s && (!best || *s < best->first)) best = std::make_pair(*s, std::move(a));
      };
      for (int t : order) {
        const T& tt = topics_[t];
        std::vector<int> by;  // counted brokers, the most of topic t first
        for (int b = 0; b < static_cast<int>(brokers_.size()); ++b)
          if (!brokers_[b].removed) by.push_back(b);
        std::stable_sort(by.begin(), by.end(), [&](int a, int b) { return tt.count[a] > tt.count[b]; });
        std::vector<int> srcs, dsts;
        for (int b : by)
          if (tt.count[b] > tt.mean + kEps && srcs.size() < 2) srcs.push_back(b);
        for (auto it = by.rbegin(); it != by.rend(); ++it)
          if (tt.count[*it] < tt.mean - kEps && brokers_[*it].dest && dsts.size() < 2) dsts.push_back(*it);
        for (int src : srcs)
          for (int dst : dsts) {
            std::vector<int> ps;  // topic t's replicas on src that may go to dst
            std::map<int, std::vector<int>> qs;  // other topics' replicas on dst that may go to src
            for (int i = 0; i < static_cast<int>(parts_.size()); ++i) {
              const P& w = parts_[i];
              if (!w.movable) continue;
              if (w.topic == t && on(i, src) && can_receive(i, dst) && ps.size() < kTopicCandidates) ps.push_back(i);
              if (w.topic != t && on(i, dst) && can_receive(i, src) && qs[w.topic].size() < kTopicCandidates)
                qs[w.topic].push_back(i);
            }
            const bool swaps = brokers_[src].dest;  // q lands on src
            for (int i : ps) {
              consider(move_action(i, pos_of(i, src), dst));
              if (!swaps) continue;
              for (const auto& [u, js] : qs)
                for (int j : js) consider(swap_action(i, src, j, dst));
            }
          }
        if (best) break;  // the worst topic that can be helped, one action at a time
      }
      if (!best) break;
      apply(best->second);
    }
    return excess(kTopics) <= kEps;
  }

  // Preferred leadership passed along a chain when no single swap helps: from
  // an over-band broker through brokers that lead a partition the next one
  // follows, to one with room (each broker on the way gives one and takes
  // one). Breadth first, so the chain is the shortest; applied whole.
  bool leader_path() {
    const int g = kLeaders;
    const int n = static_cast<int>(brokers_.size());
    for (int pass = 0; pass < 2; ++pass) {
      // pass 0: from above the band to below its top; pass 1: from above its
      // bottom to below the band. Either lowers the excess.
      auto is_src = [&](int b) { return !brokers_[b].removed && brokers_[b].v[g] > (pass == 0 ? hi_[g] : lo_[g]) + kEps; };
      auto is_dst = [&](int b) {
        return !brokers_[b].removed && brokers_[b].v[g] < (pass == 0 ? hi_[g] : lo_[g]) - kEps;
      };
      std::vector<int> via(n, -2), by_part(n, -1);  // via: previous broker (-1: a source)
      std::vector<int> queue;
      for (int b = 0; b < n; ++b)
        if (is_src(b)) via[b] = -1, queue.push_back(b);
      int end = -1;
      for (size_t head = 0; head < queue.size() && end < 0; ++head) {
        const int u = queue[head];
        for (int i = 0; i < static_cast<int>(parts_.size()) && end < 0; ++i) {
          const P& w = parts_[i];
          if (!w.movable || w.reps.empty() || w.reps[0] != u) continue;
          for (size_t k = 1; k < w.reps.size(); ++k) {
            const int x = w.reps[k];
            if (via[x] != -2 || brokers_[x].removed) continue;
            std::vector<int> reps = w.reps;
            std::swap(reps[0], reps[k]);
            if (!leader_pref_kept(i, reps)) continue;
            via[x] = u;
            by_part[x] = i;
            if (is_dst(x)) {
              end = x;
              break;
            }
            queue.push_back(x);
          }
        }
      }
      if (end < 0) continue;
      for (int x = end; via[x] >= 0; x = via[x]) {
        apply(leader_action(by_part[x], pos_of(by_part[x], x)));
      }
      return true;
    }
    return false;
  }

  // ---- results ----

  std::vector<GoalBalance> report() const {
    std::vector<GoalBalance> out;
    GoalBalance rack{"rack"};
    int bad = 0;
    for (const P& w : parts_) bad += violation(w.reps) > 0;
    rack.max = bad;
    rack.balanced = bad == 0;
    out.push_back(rack);
    for (int g = 0; g < kGoals; ++g) {
      if (g == kTopics) {
        out.push_back(topic_report());
        continue;
      }
      GoalBalance gb{kGoalNames[g]};
      gb.mean = mean_[g];
      gb.lower = lo_[g];
      gb.upper = hi_[g];
      bool first = true;
      for (const B& b : brokers_) {
        if (b.removed) continue;
        gb.min = first ? b.v[g] : std::min(gb.min, b.v[g]);
        gb.max = first ? b.v[g] : std::max(gb.max, b.v[g]);
        first = false;
      }
      gb.balanced = !active(g) || excess(g) <= kEps;
      out.push_back(gb);
      if (g == kLeaders) out.push_back(leaders_per_rack());
    }
    return out;
  }

  std::vector<BrokerBalance> brokers() const {
    std::vector<BrokerBalance> out;
    for (const B& b : brokers_)
      out.push_back({b.id, b.rack_name, static_cast<int32_t>(std::lround(b.v[kReplicas])),
                     static_cast<int32_t>(std::lround(b.v[kLeaders])), static_cast<int64_t>(std::llround(b.v[kBytes])),
                     b.v[kLoad]});
    return out;
  }

  std::vector<BrokerId> replicas_of(int i) const {
    std::vector<BrokerId> out;
    for (int b : parts_[i].reps) out.push_back(brokers_[b].id);
    return out;
  }

 private:
  struct B {
    BrokerId id = -1;
    std::string rack_name;
    int rack = 0;
    bool removed = false;  // remove-brokers: to be emptied, outside the balance
    bool dest = true;      // may receive replicas
    Values v{};
  };
  struct P {
    const Partition* src = nullptr;
    std::vector<int> reps;  // broker indexes
    bool movable = true;
    int topic = 0;  // index into topics_
    const std::vector<std::string>* prefs = nullptr;
  };
  // One topic's replicas per broker (by broker index) and its band.
  struct T {
    std::vector<int> count;
    double replicas = 0, mean = 0, lo = 0, hi = 0, scale = 1;
  };

  // What a partition's replica at position k adds to its broker's values.
  Values share(const P& w, size_t k) const {
    const double in = w.src->in_bytes_per_s, out = w.src->out_bytes_per_s;
    Values v{};
    v[kReplicas] = 1;
    v[kBytes] = static_cast<double>(w.src->bytes);
    v[kLeaders] = k == 0 ? 1 : 0;
    v[kLoad] = in + (k == 0 ? out + in * static_cast<double>(w.reps.size() - 1) : 0);
    return v;
  }

  void add(int i, double sign) {
    const P& w = parts_[i];
    for (int b : w.reps) topics_[w.topic].count[b] += sign > 0 ? 1 : -1;
    for (size_t k = 0; k < w.reps.size(); ++k) {
      const Values v = share(w, k);
      for (int g = 0; g < kGoals; ++g) brokers_[w.reps[k]].v[g] += sign * v[g];
    }
  }

  std::vector<int> after_p(const Action& a) const {
    std::vector<int> reps = parts_[a.p].reps;
    if (a.kind == Action::kLead) {
      std::swap(reps[0], reps[a.ppos]);
    } else {
      reps[a.ppos] = a.dst;
    }
    return reps;
  }

  std::vector<int> after_q(const Action& a) const {
    std::vector<int> reps = parts_[a.q].reps;
    reps[a.qpos] = a.src;
    return reps;
  }

  void apply(const Action& a) {
    std::vector<int> p_reps = after_p(a), q_reps;
    if (a.kind == Action::kSwap) q_reps = after_q(a);
    add(a.p, -1);
    parts_[a.p].reps = std::move(p_reps);
    add(a.p, +1);
    if (a.kind == Action::kSwap) {
      add(a.q, -1);
      parts_[a.q].reps = std::move(q_reps);
      add(a.q, +1);
    }
  }

  double f(int g, double v) const { return (sq(std::max(0.0, v - hi_[g])) + sq(std::max(0.0, lo_[g] - v))) * scale_[g]; }
  double var(int g, double v) const { return sq(v - mean_[g]) * scale_[g]; }

  // Whether goal g has anything to balance (no bytes or no traffic: not).
  bool active(int g) const { return g == kTopics ? !topics_.empty() : mean_[g] > kEps; }

  double topic_f(int t, double c) const {
    const T& tt = topics_[t];
    return (sq(std::max(0.0, c - tt.hi)) + sq(std::max(0.0, tt.lo - c))) * tt.scale;
  }

  double topic_excess(int t) const {
    double e = 0;
    for (size_t b = 0; b < brokers_.size(); ++b)
      if (!brokers_[b].removed) e += topic_f(t, topics_[t].count[b]);
    return e;
  }

  // The topic goal's change of excess and variance under action a: its
  // replicas change topics on src and dst (a swap of one topic's replicas, none).
  std::pair<double, double> topic_change(const Action& a) const {
    if (a.kind == Action::kLead) return {0, 0};
    struct Delta { int t, b, d; };
    std::array<Delta, 4> ds{};
    size_t n = 0;
    ds[n++] = {parts_[a.p].topic, a.src, -1};
    ds[n++] = {parts_[a.p].topic, a.dst, +1};
    if (a.kind == Action::kSwap) {
      ds[n++] = {parts_[a.q].topic, a.dst, -1};
      ds[n++] = {parts_[a.q].topic, a.src, +1};
    }
    double de = 0, dv = 0;
    for (size_t k = 0; k < n; ++k) {
      if (brokers_[ds[k].b].removed) continue;
      double before = topics_[ds[k].t].count[ds[k].b];
      for (size_t j = 0; j < k; ++j)
        if (ds[j].t == ds[k].t && ds[j].b == ds[k].b) before += ds[j].d;  // an earlier delta on the same count
      const double after = before + ds[k].d;
      const T& tt = topics_[ds[k].t];
      de += topic_f(ds[k].t, after) - topic_f(ds[k].t, before);
      dv += (sq(after - tt.mean) - sq(before - tt.mean)) * tt.scale;
    }
    return {de, dv};
  }

  double excess(int g) const {
    if (g == kTopics) {
      double e = 0;
      for (int t = 0; t < static_cast<int>(topics_.size()); ++t) e += topic_excess(t);
      return e;
    }
    double e = 0;
    for (const B& b : brokers_)
      if (!b.removed) e += f(g, b.v[g]);
    return e;
  }

  // Change of goal g's excess and variance under action a.
  std::pair<double, double> change(int g, const Action& a) const {
    if (g == kTopics) return topic_change(a);
    double de = 0, dv = 0;
    auto at = [&](int b, double delta) {
      if (brokers_[b].removed) return;
      const double before = brokers_[b].v[g], after = before + delta;
      de += f(g, after) - f(g, before);
      dv += var(g, after) - var(g, before);
    };
    at(a.src, -a.d[g]);
    at(a.dst, a.d[g]);
    return {de, dv};
  }

  // The score of an action for goal g, or nothing when it is not acceptable.
  std::optional<Score> evaluate(const Action& a, int g) const {
    if (a.kind != Action::kLead && violation_after(a.p, a.ppos, a.dst) > violation(parts_[a.p].reps))
      return std::nullopt;
    if (a.kind == Action::kSwap && violation_after(a.q, a.qpos, a.src) > violation(parts_[a.q].reps))
      return std::nullopt;
    // Leadership changes only where position 0 does.
    if ((a.kind == Action::kLead || a.ppos == 0) && !leader_pref_kept(a.p, after_p(a))) return std::nullopt;
    if (a.kind == Action::kSwap && a.qpos == 0 && !leader_pref_kept(a.q, after_q(a))) return std::nullopt;
    for (int e = 0; e < g; ++e)
      if (active(e) && change(e, a).first > kEps) return std::nullopt;
    auto [de, dv] = change(g, a);
    if (de > kEps || (de > -kEps && dv > -kEps)) return std::nullopt;
    Score s{de, dv, 0, a.bytes};
    for (int e = g + 1; e < kGoals; ++e)
      if (active(e)) s.later += change(e, a).first;
    return s;
  }

  // Draining and rack repair: every goal's excess in priority order, then bytes.
  Score score_drain(const Action& a) const {
    Score s;
    double weight = 1;
    for (int g = 0; g < kGoals; ++g, weight *= 1e-3) {
      auto [de, dv] = change(g, a);
      s.excess += weight * de;
      s.variance += weight * dv;
    }
    s.bytes = a.bytes;
    return s;
  }

  bool can_receive(int i, int b) const {
    const auto& reps = parts_[i].reps;
    return brokers_[b].dest && std::find(reps.begin(), reps.end(), b) == reps.end();
  }

  Action move_action(int i, size_t pos, int to) const {
    Action a;
    a.p = i;
    a.ppos = pos;
    a.src = parts_[i].reps[pos];
    a.dst = to;
    a.bytes = parts_[i].src->bytes;
    a.d = share(parts_[i], pos);
    return a;
  }

  // `on_src`: the movable partitions src holds.
  template <typename F>
  void move_actions(const std::vector<int>& on_src, int src, int dst, F&& consider) const {
    for (int i : on_src)
      if (can_receive(i, dst)) consider(move_action(i, pos_of(i, src), dst));
  }

  // Two replicas trade places: p from src to dst, q from dst to src, with q's
  // value near p's minus the gap to close (a few neighbours in q's order).
  template <typename F>
  void swap_actions(const std::vector<int>& on_src, const std::vector<int>& on_dst, int src, int dst, int g,
                    F&& consider) const {
    std::vector<std::pair<double, int>> qs;
    for (int j : on_dst)
      if (can_receive(j, src)) qs.emplace_back(value_of(j, g), j);
    if (qs.empty()) return;
    std::sort(qs.begin(), qs.end());
    const double gap = (brokers_[src].v[g] - brokers_[dst].v[g]) / 2;
    for (int i : on_src) {
      if (!can_receive(i, dst)) continue;
      const double want = value_of(i, g) - gap;
      auto at = std::lower_bound(qs.begin(), qs.end(), std::make_pair(want, -1));
      const auto lo = at - std::min<std::ptrdiff_t>(2, at - qs.begin());
      const auto hi = at + std::min<std::ptrdiff_t>(2, qs.end() - at);
      for (auto it = lo; it != hi; ++it) {
        const int j = it->second;
        if (j != i) consider(swap_action(i, src, j, dst));
      }
    }
  }

  // Partition i's replica on src goes to dst and partition j's on dst to src.
  Action swap_action(int i, int src, int j, int dst) const {
    Action a = move_action(i, pos_of(i, src), dst);
    a.kind = Action::kSwap;
    a.q = j;
    a.qpos = pos_of(j, dst);
    a.bytes += parts_[j].src->bytes;
    const Values back = share(parts_[j], a.qpos);
    for (int g = 0; g < kGoals; ++g) a.d[g] -= back[g];
    return a;
  }

  // Preferred leadership from src to dst where dst already holds a replica.
  template <typename F>
  void leader_actions(const std::vector<int>& on_src, int src, int dst, F&& consider) const {
    for (int i : on_src) {
      const P& w = parts_[i];
      if (w.reps[0] != src) continue;
      auto it = std::find(w.reps.begin(), w.reps.end(), dst);
      if (it == w.reps.end()) continue;
      consider(leader_action(i, static_cast<size_t>(it - w.reps.begin())));
    }
  }

  // Partition i's preferred leadership to its replica at position k.
  Action leader_action(int i, size_t k) const {
    const P& w = parts_[i];
    Action a;
    a.kind = Action::kLead;
    a.p = i;
    a.ppos = k;
    a.src = w.reps[0];
    a.dst = w.reps[k];
    const Values lead = share(w, 0), follow = share(w, k);
    for (int g = 0; g < kGoals; ++g) a.d[g] = lead[g] - follow[g];
    return a;
  }

  size_t pos_of(int i, int b) const {
    const auto& reps = parts_[i].reps;
    return static_cast<size_t>(std::find(reps.begin(), reps.end(), b) - reps.begin());
  }

  bool on(int i, int b) const {
    const auto& reps = parts_[i].reps;
    return std::find(reps.begin(), reps.end(), b) != reps.end();
  }

  double value_of(int i, int g) const {
    const Partition& p = *parts_[i].src;
    switch (g) {
      case kBytes: return static_cast<double>(p.bytes);
      case kLoad: return p.in_bytes_per_s;
      default: return 1;
    }
  }

  // Replicas beyond ceil(RF / racks) in any rack.
  int violation(const std::vector<int>& reps) const {
    if (racks_ <= 1) return 0;
    const int limit = (static_cast<int>(reps.size()) + racks_ - 1) / racks_;
    int over = 0;
    for (size_t k = 0; k < reps.size(); ++k) {
      int seen = 0;
      for (size_t j = 0; j < k; ++j) seen += brokers_[reps[j]].rack == brokers_[reps[k]].rack;
      over += seen >= limit;
    }
    return over;
  }

  // violation() of partition i's replicas with position pos on broker b, without
  // building the list (the search asks this for every candidate).
  int violation_after(int i, size_t pos, int b) const {
    if (racks_ <= 1) return 0;
    const auto& reps = parts_[i].reps;
    const int limit = (static_cast<int>(reps.size()) + racks_ - 1) / racks_;
    int over = 0;
    for (size_t k = 0; k < reps.size(); ++k) {
      const int rk = brokers_[k == pos ? b : reps[k]].rack;
      int seen = 0;  // replicas before k in rack rk
      for (size_t j = 0; j < k; ++j) seen += brokers_[j == pos ? b : reps[j]].rack == rk;
      over += seen >= limit;  // the (limit+1)-th and later of a rack count
    }
    return over;
  }

  int rank(const P& w, int b) const {
    const auto& prefs = *w.prefs;
    auto it = std::find(prefs.begin(), prefs.end(), brokers_[b].rack_name);
    return it == prefs.end() ? static_cast<int>(prefs.size()) : static_cast<int>(it - prefs.begin());
  }

  // A topic with preferred leader racks keeps its leader in the best rack its
  // replicas are in, once it is there.
  bool leader_pref_kept(int i, const std::vector<int>& reps) const {
    const P& w = parts_[i];
    if (!w.prefs || w.reps.empty()) return true;
    auto best_rank = [&](const std::vector<int>& rs) {
      int r = std::numeric_limits<int>::max();
      for (int b : rs) r = std::min(r, rank(w, b));
      return r;
    };
    const bool held = rank(w, w.reps[0]) == best_rank(w.reps);
    return !held || rank(w, reps[0]) == best_rank(reps);
  }

  // The topic goal as one line: min and max are the smallest and the largest
  // spread of any topic (its most replicas on a counted broker minus its
  // fewest), mean the mean spread; the band is 0 .. 1 + 2 x count_tolerance.
  GoalBalance topic_report() const {
    GoalBalance gb{kGoalNames[kTopics]};
    gb.upper = 1 + 2.0 * opts_.count_tolerance;
    bool first = true;
    for (const T& tt : topics_) {
      int lo = std::numeric_limits<int>::max(), hi = std::numeric_limits<int>::min();
      for (size_t b = 0; b < brokers_.size(); ++b)
        if (!brokers_[b].removed) lo = std::min(lo, tt.count[b]), hi = std::max(hi, tt.count[b]);
      if (lo > hi) continue;  // no counted broker
      const double spread = hi - lo;
      gb.min = first ? spread : std::min(gb.min, spread);
      gb.max = first ? spread : std::max(gb.max, spread);
      gb.mean += spread;
      first = false;
    }
    if (!topics_.empty()) gb.mean /= static_cast<double>(topics_.size());
    gb.balanced = !active(kTopics) || excess(kTopics) <= kEps;
    return gb;
  }

  GoalBalance leaders_per_rack() const {
    GoalBalance gb{"leaders-per-rack"};
    gb.mean = mean_[kLeaders];
    gb.lower = lo_[kLeaders];
    gb.upper = hi_[kLeaders];
    std::map<int, std::pair<double, int>> per;  // rack -> leaders, brokers
    for (const B& b : brokers_) {
      if (b.removed) continue;
      per[b.rack].first += b.v[kLeaders];
      per[b.rack].second += 1;
    }
    bool first = true;
    for (auto& [r, lb] : per) {
      const double v = lb.first / lb.second;
      gb.min = first ? v : std::min(gb.min, v);
      gb.max = first ? v : std::max(gb.max, v);
      first = false;
    }
    gb.balanced = per.empty() || (gb.min >= gb.lower - kEps && gb.max <= gb.upper + kEps);
    return gb;
  }

  Options opts_;
  std::vector<B> brokers_;
  std::unordered_map<BrokerId, int> index_;
  std::vector<P> parts_;
  std::vector<T> topics_;
  int racks_ = 1;
  Values mean_{}, lo_{}, hi_{}, scale_{};
};

}  // namespace

std::string validate(const Cluster& cluster, const Options& options) {
  std::set<BrokerId> ids;
  for (size_t i = 0; i < cluster.brokers.size(); ++i) {
    const BrokerId id = cluster.brokers[i].id;
    if (id < 0) return "brokers[" + std::to_string(i) + "].id: " + std::to_string(id) + " is negative";
    if (!ids.insert(id).second) return "brokers[" + std::to_string(i) + "].id: " + std::to_string(id) + " twice";
  }
  std::set<std::pair<std::string, int32_t>> seen;
  for (size_t i = 0; i < cluster.partitions.size(); ++i) {
    const Partition& p = cluster.partitions[i];
    const std::string where = "partitions[" + std::to_string(i) + "] (" + name_of(p) + ")";
    if (!seen.emplace(p.topic, p.partition).second) return where + ": listed twice";
    if (p.replicas.empty()) return where + ".replicas: empty";
    std::set<BrokerId> reps;
    for (BrokerId b : p.replicas) {
      if (!ids.count(b)) return where + ".replicas: broker " + std::to_string(b) + " is not among the brokers";
      if (!reps.insert(b).second) return where + ".replicas: broker " + std::to_string(b) + " twice";
    }
    if (p.bytes < 0) return where + ".bytes: " + std::to_string(p.bytes) + " is negative";
    if (!(p.in_bytes_per_s >= 0) || !(p.out_bytes_per_s >= 0) || !std::isfinite(p.in_bytes_per_s) ||
        !std::isfinite(p.out_bytes_per_s))
      return where + ": rates must be finite and not negative";
  }
  if (options.mode != Mode::kFull && options.brokers.empty())
    return std::string("brokers: ") + (options.mode == Mode::kAddBrokers ? "add-brokers" : "remove-brokers") +
           " names no broker";
  for (BrokerId b : options.brokers)
    if (!ids.count(b)) return "brokers: " + std::to_string(b) + " is not a broker of the cluster";
  if (options.mode == Mode::kRemoveBrokers && options.brokers.size() >= ids.size())
    return "brokers: removing every broker leaves none";
  if (options.count_tolerance < 0) return "count_tolerance: must not be negative";
  if (!(options.band >= 0) || !std::isfinite(options.band)) return "band: must be a fraction >= 0";
  return "";
}

std::vector<GoalBalance> balance(const Cluster& cluster, const Options& options) {
  if (!validate(cluster, options).empty()) return {};
  return State(cluster, options).report();
}

Plan plan(const Cluster& cluster, const Options& options) {
  Plan out;
  if (std::string why = validate(cluster, options); !why.empty()) {
    out.problems.push_back(why);
    return out;
  }
  State s(cluster, options);
  out.before = s.report();
  out.brokers_before = s.brokers();
  if (options.mode == Mode::kRemoveBrokers) s.drain(out.problems);
  s.fix_racks();
  s.place_preferred_leaders();
  for (int g = 0; g < kGoals; ++g) s.optimise(g);
  for (size_t i = 0; i < cluster.partitions.size(); ++i) {
    const Partition& p = cluster.partitions[i];
    std::vector<BrokerId> to = s.replicas_of(static_cast<int>(i));
    if (to == p.replicas) continue;
    Reassignment r{p.topic, p.partition, p.replicas, to, 0};
    for (BrokerId b : to)
      if (std::find(p.replicas.begin(), p.replicas.end(), b) == p.replicas.end()) {
        r.bytes += p.bytes;
        ++out.replica_moves;
      }
    out.bytes_to_move += r.bytes;
    out.leader_moves += r.leader_only();
    out.moves.push_back(std::move(r));
  }
  std::sort(out.moves.begin(), out.moves.end(), [](const Reassignment& a, const Reassignment& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  // Measured afresh on the result (the search's running sums drift in the last bits).
  const State result(apply(cluster, out), options);
  out.after = result.report();
  out.brokers_after = result.brokers();
  if (!out.after.empty() && !out.after[0].balanced)
    out.problems.push_back(std::to_string(static_cast<int>(out.after[0].max)) +
                           " partitions keep two replicas in one rack: too few brokers per rack");
  return out;
}

Cluster apply(const Cluster& cluster, const Plan& plan) {
  Cluster out = cluster;
  std::map<std::pair<std::string, int32_t>, const Reassignment*> by;
  for (const Reassignment& r : plan.moves) by[{r.topic, r.partition}] = &r;
  for (Partition& p : out.partitions)
    if (auto it = by.find({p.topic, p.partition}); it != by.end()) p.replicas = it->second->to;
  return out;
}

}  // namespace millrace::op::planner
