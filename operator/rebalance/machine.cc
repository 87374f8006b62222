#include "operator/rebalance/machine.h"

#include <algorithm>

namespace millrace::op::rebalance {

namespace {

constexpr int64_t kPollMs = 5000;  // how often a running rebalance looks again
// How often a NotReady Rebalance plans again by itself: its cause (a topic
// whose replication factor the brokers left cannot hold, a broker not there
// yet) may be gone, and a held scale-down should then go on without anyone
// touching the Rebalance.
constexpr int64_t kRetryNotReadyMs = 60000;

std::string name(const TopicPartition& tp) { return tp.first + "-" + std::to_string(tp.second); }

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += sep;
    s += v[i];
  }
  return s;
}

std::string mib(int64_t bytes) { return std::to_string((bytes + (1 << 19)) >> 20) + " MiB"; }

class Machine {
 public:
  explicit Machine(const Inputs& in) : in_(in) { out_.status = in.status; }

  Outputs run() {
    Status& st = out_.status;
    const std::string& ann = in_.annotation;
    if (!ann.empty() && ann != "approve" && ann != "stop" && ann != "refresh") {
      out_.clear_annotation = true;
      out_.events.push_back("UnknownAnnotation: millrace.io/rebalance=" + ann + " is not approve, stop or refresh");
      return step_state("");
    }
    if (!ann.empty()) out_.clear_annotation = true;
    // A changed spec makes a new proposal, except while moves run.
    if (st.state != State::kNew && st.state != State::kRebalancing && in_.generation != st.observed_generation &&
        in_flight_count() == 0)
      return propose_then(ann == "approve" || in_.spec.auto_approve);
    return step_state(ann);
  }

 private:
  Outputs step_state(const std::string& ann) {
    Status& st = out_.status;
    const bool had_moves = st.proposal.replica_moves + st.proposal.leader_moves > 0;
    if ((st.state == State::kRebalancing || st.state == State::kStopped) && in_.stored_plan.empty() && had_moves) {
      out_.events.push_back("PlanLost: the stored moves are gone; a new proposal from the cluster as it is");
      return propose_then(st.state == State::kRebalancing);
    }
    switch (st.state) {
      case State::kNew:
        return propose_then(ann == "approve" || in_.spec.auto_approve);
      case State::kProposalReady:
        if (ann == "approve" || in_.spec.auto_approve) return propose_then(true);
        if (ann == "refresh") return propose_then(false);
        return done();
      case State::kRebalancing:
        if (ann == "stop") {
          st.state = State::kStopped;
          out_.events.push_back("Stopping: no new moves; the moves in flight are cancelled");
          return advance(in_.stored_plan, /*submit=*/false);
        }
        if (ann == "refresh") out_.events.push_back("IgnoredAnnotation: refresh while rebalancing; stop first");
        return advance(in_.stored_plan, true);
      case State::kStopped:
        if (ann == "approve") return propose_then(true);
        if (ann == "refresh") return propose_then(false);
        return advance(in_.stored_plan, false);
      case State::kReady:
        if (ann == "refresh" || ann == "approve") return propose_then(ann == "approve" || in_.spec.auto_approve);
        return done();
      case State::kNotReady:
        if (ann == "refresh" || ann == "approve") return propose_then(ann == "approve" || in_.spec.auto_approve);
        return retry_not_ready();
    }
    return done();
  }

  // A new plan from the cluster as it is; started at once when `go`.
  Outputs propose_then(bool go) {
    Status& st = out_.status;
    planner::Plan p = planner::plan(in_.cluster, in_.spec.planner);
    std::vector<planner::Reassignment> moves = std::move(p.moves);
    st.proposal = std::move(p);
    st.proposal.moves.clear();  // stored apart: a status stays small
    st.proposal_ms = in_.now_ms;
    st.observed_generation = in_.generation;
    st.progress = {};
    out_.store_plan = moves;
    if (!st.proposal.feasible()) {
      st.state = State::kNotReady;
      st.message = join(st.proposal.problems, "; ");
      out_.events.push_back("ProposalInfeasible: " + st.message);
      out_.clear_throttle = true;
      return done();
    }
    if (moves.empty()) {
      st.state = State::kReady;
      st.message = "balanced: no move needed";
      out_.clear_throttle = true;
      return done();
    }
    st.message = std::to_string(moves.size()) + " reassignments (" + std::to_string(st.proposal.replica_moves) +
                 " replicas to copy, " + mib(st.proposal.bytes_to_move) + "; " +
                 std::to_string(st.proposal.leader_moves) + " leadership changes only)";
    if (!go) {
      st.state = State::kProposalReady;
      out_.events.push_back("ProposalReady: " + st.message + "; approve with millrace.io/rebalance=approve");
      return done();
    }
    st.state = State::kRebalancing;
    st.progress.started_ms = in_.now_ms;
    out_.events.push_back("RebalanceStarted: " + st.message);
    return advance(moves, true);
  }

  // NotReady: a new plan once kRetryNotReadyMs has passed since the last; one
  // that is infeasible for the same reasons changes nothing (no status write,
  // no event), so a Rebalance stuck for good costs a plan a minute.
  Outputs retry_not_ready() {
    const Status before = out_.status;
    const int64_t waited = in_.now_ms - before.proposal_ms;
    if (waited < kRetryNotReadyMs) {
      out_.requeue_after_ms = kRetryNotReadyMs - waited;
      return done();
    }
    Outputs next = propose_then(in_.spec.auto_approve);
    if (next.status.state == State::kNotReady && next.status.message == before.message) {
      Outputs same;
      same.status = before;
      same.requeue_after_ms = kRetryNotReadyMs;
      return same;
    }
    next.events.insert(next.events.begin(), "Replanned: no longer " + before.message);
    return next;
  }

  int in_flight_count() const {
    int n = 0;
    for (const planner::Reassignment& m : in_.stored_plan) n += in_.in_flight.count({m.topic, m.partition}) > 0;
    return n;
  }

  static bool same_brokers(std::vector<planner::BrokerId> a, std::vector<planner::BrokerId> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
  }

  // Where each move stands; submits what fits when `submit`.
  Outputs advance(const std::vector<planner::Reassignment>& plan, bool submit) {
    Status& st = out_.status;
    std::map<TopicPartition, const std::vector<planner::BrokerId>*> current;
    for (const planner::Partition& p : in_.cluster.partitions) current[{p.topic, p.partition}] = &p.replicas;
    std::map<planner::BrokerId, int> receiving;  // moves in flight per broker receiving a replica
    auto receivers = [](const planner::Reassignment& m) {
      std::vector<planner::BrokerId> r;
      for (planner::BrokerId b : m.to)
        if (std::find(m.from.begin(), m.from.end(), b) == m.from.end()) r.push_back(b);
      return r;
    };
    Progress& pr = st.progress;
    pr.moves_total = static_cast<int32_t>(plan.size());
    pr.moves_done = pr.moves_in_flight = 0;
    pr.bytes_total = pr.bytes_left = 0;
    pr.skipped.clear();
    std::vector<const planner::Reassignment*> pending;
    for (const planner::Reassignment& m : plan) {
      const TopicPartition tp{m.topic, m.partition};
      pr.bytes_total += m.bytes;
      auto cur = current.find(tp);
      const bool flying = in_.in_flight.count(tp) > 0;
      if (flying) {
        ++pr.moves_in_flight;
        pr.bytes_left += m.bytes;
        for (planner::BrokerId b : receivers(m)) ++receiving[b];
      } else if (cur != current.end() && *cur->second == m.to) {
        ++pr.moves_done;
      } else if (cur != current.end() && (*cur->second == m.from || (st.state == State::kStopped &&
                                                                    same_brokers(*cur->second, m.from)))) {
        // Stopped: a cancelled move is back on its brokers, maybe in another
        // order (a cancel keeps the original brokers, not their order, in KRaft
        // too): left undone, not skipped.
        pr.bytes_left += m.bytes;
        pending.push_back(&m);
      } else {
        pr.skipped.push_back(name(tp));  // gone, or moved by someone else
      }
    }
    if (submit)
      for (const planner::Reassignment* m : pending) {
        const auto r = receivers(*m);
        if (std::any_of(r.begin(), r.end(), [&](planner::BrokerId b) { return receiving[b] >= in_.spec.concurrent_moves; }))
          continue;
        for (planner::BrokerId b : r) ++receiving[b];
        out_.submit.push_back(*m);
        ++pr.moves_in_flight;
      }
    const int64_t moved = pr.bytes_total - pr.bytes_left;
    const int64_t elapsed_ms = in_.now_ms - pr.started_ms;
    if (pr.bytes_left == 0) {
      pr.eta_seconds = 0;
    } else if (moved > 0 && elapsed_ms > 0) {
      pr.eta_seconds = pr.bytes_left * elapsed_ms / moved / 1000;
    } else {
      pr.eta_seconds = in_.spec.throttle_bytes_per_s > 0 ? pr.bytes_left / in_.spec.throttle_bytes_per_s : -1;
    }
    const bool running = pr.moves_in_flight > 0;
    const bool left = running || (submit && !pending.empty());
    std::string skipped;
    if (!pr.skipped.empty())
      skipped = "; skipped (moved by someone else or gone): " +
                join(std::vector<std::string>(pr.skipped.begin(), pr.skipped.begin() + std::min<size_t>(5, pr.skipped.size())), ", ");
    if (st.state == State::kRebalancing && !left) {
      st.state = State::kReady;
      st.message = "rebalanced: " + std::to_string(pr.moves_done) + " of " + std::to_string(pr.moves_total) +
                   " reassignments done" + skipped;
      out_.events.push_back("RebalanceFinished: " + st.message);
      out_.clear_throttle = true;
      return done();
    }
    if (st.state == State::kStopped) {
      for (const planner::Reassignment& m : plan)
        if (in_.in_flight.count({m.topic, m.partition})) out_.cancel.push_back({m.topic, m.partition});
      st.message = (running ? "stopping: " + std::to_string(pr.moves_in_flight) + " moves in flight being cancelled; "
                            : std::string("stopped: ")) +
                   std::to_string(pr.moves_done) + " of " + std::to_string(pr.moves_total) + " done" + skipped;
      if (!running) {
        out_.clear_throttle = true;
        return done();
      }
    } else {
      st.message = std::to_string(pr.moves_done) + " of " + std::to_string(pr.moves_total) + " reassignments done, " +
                   std::to_string(pr.moves_in_flight) + " in flight, " + mib(pr.bytes_left) + " left" + skipped;
    }
    out_.throttle = in_.spec.throttle_bytes_per_s;
    out_.requeue_after_ms = kPollMs;
    return done();
  }

  Outputs done() { return std::move(out_); }

  const Inputs& in_;
  Outputs out_;
};

}  // namespace

const char* to_string(State s) {
  switch (s) {
    case State::kNew: return "New";
    case State::kProposalReady: return "ProposalReady";
    case State::kRebalancing: return "Rebalancing";
    case State::kStopped: return "Stopped";
    case State::kReady: return "Ready";
    case State::kNotReady: return "NotReady";
  }
  return "New";
}

std::optional<State> state_from(const std::string& s) {
  for (State x : {State::kNew, State::kProposalReady, State::kRebalancing, State::kStopped, State::kReady,
                  State::kNotReady})
    if (s == to_string(x)) return x;
  return std::nullopt;
}

Outputs step(const Inputs& in) { return Machine(in).run(); }

}  // namespace millrace::op::rebalance
