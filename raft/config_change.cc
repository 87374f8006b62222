// Configurations and leadership transfer. A configuration takes effect when
// its kVoters entry is APPENDED (committed or not) and reverts when that entry
// is truncated; the leader moves voters through joint consensus (C_old,new,
// then C_new once C_old,new is committed, see after_leader_commit).
#include <algorithm>

#include "raft/raft_impl.h"

namespace millrace::raft {

void Raft::Impl::load_config() {
  SnapshotMeta s = log.snapshot();
  base = s.config;
  base_index = s.index;
  history.clear();
  for (const Entry& e : log.config_entries()) {
    Config c;
    if (e.data && Config::decode(*e.data, &c)) history.emplace_back(e.last, std::move(c));
  }
  config = history.empty() ? base : history.back().second;
  config_index = history.empty() ? base_index : history.back().first;
}

bool Raft::Impl::promotable() const {
  if (config.is_voter(opts.id)) return true;
  if (config_index <= commit) return false;
  const Config& prev = history.size() >= 2 ? history[history.size() - 2].second : base;
  return prev.is_voter(opts.id);
}

void Raft::Impl::set_config(const Config& c, Index at) {
  history.emplace_back(at, c);
  config = c;
  config_index = at;
  if (transfer_target != kNoNode && !config.is_voter(transfer_target)) abort_transfer();
  sync_peers();
  maybe_commit();  // the quorum changed with the config
}

void Raft::Impl::append_entry(Entry e) {
  Config c;
  bool is_config = e.type == EntryType::kVoters && e.data && Config::decode(*e.data, &c);
  Index at = e.last;
  view.append(std::move(e));
  if (is_config) set_config(c, at);
}

void Raft::Impl::truncate_from(Index from) {
  view.truncate_from(from);
  bool changed = false;
  while (!history.empty() && history.back().first >= from) {
    history.pop_back();
    changed = true;
  }
  if (!changed) return;
  config = history.empty() ? base : history.back().second;
  config_index = history.empty() ? base_index : history.back().first;
  sync_peers();
}

void Raft::Impl::install_snapshot(const SnapshotMeta& s) {
  view.install_snapshot(s);
  base = s.config;
  base_index = s.index;
  history.clear();
  config = base;
  config_index = base_index;
  commit_to(s.index);
  sync_peers();
}

void Raft::Impl::trim_config_history() {
  // Configs below the commit index never revert: fold all but the latest of them into base.
  size_t k = 0;
  while (k + 1 < history.size() && history[k + 1].first <= commit) ++k;
  if (k == 0) return;
  base = history[k - 1].second;
  base_index = history[k - 1].first;
  history.erase(history.begin(), history.begin() + static_cast<std::ptrdiff_t>(k));
}

void Raft::Impl::sync_peers() {
  if (role != Role::kLeader) return;
  std::vector<NodeId> all = config.all();
  peers.erase(std::remove_if(peers.begin(), peers.end(),
                             [&](const PeerProgress& p) {
                               return !std::binary_search(all.begin(), all.end(), p.id());
                             }),
              peers.end());
  for (NodeId n : all) {
    if (n == opts.id) continue;
    if (PeerProgress* p = peer(n)) {
      p->set_learner(config.is_learner(n));
    } else {
      peers.emplace_back(n, view.last() + 1, opts.max_inflight, config.is_learner(n));
    }
  }
}

namespace {
void normalize(std::vector<NodeId>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}
bool contains(const std::vector<NodeId>& v, NodeId n) { return std::binary_search(v.begin(), v.end(), n); }
}  // namespace

ProposeResult Raft::Impl::propose_config(const Config& target) {
  ProposeResult r;
  if (role == Role::kLeader) unquiesce();
  auto fail = [&](ProposeError e, std::string msg) {
    r.error = e;
    r.message = std::move(msg);
    return r;
  };
  if (role != Role::kLeader) return fail(ProposeError::kNotLeader, "not the leader");
  if (transfer_target != kNoNode) return fail(ProposeError::kTransferring, "leadership is being transferred");
  if (pending_conf_index > commit || config.joint())
    return fail(ProposeError::kConfigInFlight, "a configuration change is not yet committed");
  Config t = target;
  normalize(t.voters);
  normalize(t.outgoing);
  normalize(t.learners);
  if (t.joint()) return fail(ProposeError::kInvalidConfig, "a target configuration cannot be joint (outgoing must be empty)");
  if (t.voters.empty()) return fail(ProposeError::kInvalidConfig, "the voter set must not be empty");
  if (t.voters.size() > kMaxVoters) return fail(ProposeError::kInvalidConfig, "too many voters");
  for (NodeId n : t.learners) {
    if (contains(t.voters, n)) {
      std::string msg = "node ";
      msg.append(std::to_string(n.value()));
      msg.append(" is both a voter and a learner");
      return fail(ProposeError::kInvalidConfig, std::move(msg));
    }
  }
  Config next;
  if (t.voters == config.voters) {
    next = t;  // learners only: one step
  } else {
    next.voters = t.voters;
    next.outgoing = config.voters;
    leave_learners.clear();
    for (NodeId n : t.learners) {
      if (contains(next.outgoing, n)) leave_learners.push_back(n);  // a demoted voter: a learner once C_new
      else next.learners.push_back(n);
    }
  }
  auto bytes = std::make_shared<const std::vector<uint8_t>>(next.encode());
  append_own(EntryType::kVoters, std::move(bytes), 1);
  bcast_append(false);
  r.last = view.last();
  r.term = term;
  return r;
}

bool Raft::Impl::transfer_leadership(NodeId to) {
  if (role != Role::kLeader || to == opts.id || !config.is_voter(to)) return false;
  unquiesce();
  PeerProgress* pr = peer(to);
  if (pr == nullptr) return false;
  transfer_target = to;
  transfer_elapsed = 0;
  if (pr->match() == view.last()) {
    maybe_send_timeout_now(*pr);
  } else {
    send_append(*pr, false);
  }
  return true;
}

}  // namespace millrace::raft
