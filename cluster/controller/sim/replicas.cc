#include "cluster/controller/sim/replicas.h"

#include <algorithm>
#include <vector>

#include "cluster/controller/sim/metadata_batch.h"

namespace millrace::cluster::sim {
namespace {

std::string s(int64_t v) { return std::to_string(v); }

// The first record where two states' snapshots differ, both sides described.
std::string first_difference(const MetadataState& a, const MetadataState& b) {
  std::vector<records::AnyRecord> ra = a.snapshot(), rb = b.snapshot();
  size_t k = 0;
  while (k < ra.size() && k < rb.size() && ra[k] == rb[k]) ++k;
  auto at = [&](const std::vector<records::AnyRecord>& r) {
    return k < r.size() ? describe(r[k]) : std::string("(nothing: its snapshot ends)");
  };
  if (k == ra.size() && k == rb.size()) return "their snapshots are equal but the states are not";
  return "snapshot record " + s(static_cast<int64_t>(k)) + ": " + at(ra) + " vs " + at(rb) + " (" +
         s(static_cast<int64_t>(ra.size())) + " vs " + s(static_cast<int64_t>(rb.size())) + " records)";
}

}  // namespace

bool Replicas::apply_entry(int node, MetadataState& state, const raft::Entry& e) {
  if (e.type != raft::EntryType::kData || !e.data) return true;  // Raft's own entries change nothing here
  DecodedBatch b = decode_batch(*e.data);
  if (!b.ok()) {
    fail("node " + s(node) + ": entry " + s(e.last.value()) + " (term " + s(e.term.value()) + ") does not decode: " + b.error);
    return false;
  }
  if (static_cast<int64_t>(b.records.size()) != e.last.value() - e.first.value() + 1) {
    fail("node " + s(node) + ": entry " + s(e.last.value()) + " holds " + s(static_cast<int64_t>(b.records.size())) +
         " records for offsets " + s(e.first.value()) + ".." + s(e.last.value()));
    return false;
  }
  for (size_t k = 0; k < b.records.size(); ++k) {
    if (flaw_.kind == Flaw::Kind::kSkipRecordType && node == flaw_.node &&
        records::record_type(b.records[k]) == flaw_.record_type)
      continue;
    std::string why = state.apply(b.records[k]);
    if (!why.empty()) {
      fail("node " + s(node) + ": entry " + s(e.last.value()) + " (term " + s(e.term.value()) + ") record " +
           s(static_cast<int64_t>(k)) + " " + describe(b.records[k]) + " does not apply: " + why);
      return false;
    }
  }
  return true;
}

void Replicas::check_at(int node, Index i, const MetadataState& state) {
  auto it = truth_.find(i);
  if (it == truth_.end()) {
    truth_.emplace(i, std::make_pair(node, state));
    return;
  }
  ++comparisons_;
  if (it->second.second == state) return;
  fail("node " + s(node) + "'s metadata state after committed index " + s(i.value()) + " differs from node " +
       s(it->second.first) + "'s at the same index: " + first_difference(state, it->second.second));
}

bool Replicas::replay(int node, Replica& r, const raft::sim::SimLog& log, Index upto, bool check) {
  if (upto <= r.applied) return true;
  if (r.applied + 1 < log.start() || upto > log.last()) {
    fail("node " + s(node) + ": cannot apply (" + s(r.applied.value()) + ".." + s(upto.value()) + "]: its log holds [" +
         s(log.start().value()) + ".." + s(log.last().value()) + "]");
    return false;
  }
  const std::vector<raft::Entry>& all = log.all();
  auto it = std::upper_bound(all.begin(), all.end(), r.applied,
                             [](Index i, const raft::Entry& e) { return i < e.last; });
  std::vector<const raft::Entry*> todo;
  for (; it != all.end() && it->last <= upto; ++it) todo.push_back(&*it);
  if (flaw_.kind == Flaw::Kind::kSwapEntries && node == flaw_.node && check) {
    // Out of order: each pair of data entries applied second first.
    for (size_t k = 0; k + 1 < todo.size(); k += 2)
      if (todo[k]->data && todo[k + 1]->data) std::swap(todo[k], todo[k + 1]);
  }
  for (const raft::Entry* e : todo) {
    if (!apply_entry(node, r.state, *e)) return false;
    r.applied = std::max(r.applied, e->last);
    if (check) check_at(node, e->last, r.state);
    if (!error_.empty()) return false;
  }
  r.applied = upto;
  return true;
}

bool Replicas::from_snapshot(int node, Replica& r, const raft::sim::SimLog& log, Index upto) {
  for (auto it = r.snapshots.rbegin(); it != r.snapshots.rend(); ++it) {
    if (it->first > upto || it->first + 1 < log.start()) continue;
    r.state = it->second;
    r.applied = it->first;
    return true;
  }
  fail("node " + s(node) + ": no snapshot at or below " + s(upto.value()) + " that its log [" +
       s(log.start().value()) + ".." + s(log.last().value()) + "] continues");
  return false;
}

void Replicas::restart(int node, const raft::sim::SimLog& log, Index commit) {
  Replica& r = nodes_[node];
  if (r.snapshots.empty()) r.snapshots.emplace(Index{-1}, MetadataState{});  // the empty log's state
  ++stats_.restarts;
  if (!from_snapshot(node, r, log, commit)) return;
  if (r.applied >= Index{0}) ++stats_.restarts_from_snapshot;
  replay(node, r, log, commit, true);
}

void Replicas::before_log_start(int node, const raft::sim::SimLog& log, Index new_start) {
  Replica& r = nodes_[node];
  Index at = new_start - 1;
  ++stats_.snapshots_kept;
  if (at == r.applied) {
    r.snapshots[at] = r.state;
    return;
  }
  Replica copy;
  copy.snapshots = r.snapshots;
  if (from_snapshot(node, copy, log, at) && replay(node, copy, log, at, true)) r.snapshots[at] = copy.state;
}

void Replicas::install_snapshot(int node, Index at) {
  // The leader's image at `at` (its snapshot): every node that reached `at`
  // held this state there, or the run has failed already.
  auto it = truth_.find(at);
  if (it == truth_.end()) {
    fail("node " + s(node) + " installs a snapshot at " + s(at.value()) + " that no node has applied");
    return;
  }
  Replica& r = nodes_[node];
  r.state = it->second.second;
  r.applied = at;
  r.snapshots[at] = r.state;
  ++stats_.snapshots_installed;
}

void Replicas::commit(int node, Index commit, const raft::sim::SimLog& log) {
  replay(node, nodes_[node], log, commit, true);
}

std::optional<MetadataState> Replicas::speculative(int node, const raft::sim::SimLog& log) {
  Replica copy;
  copy.state = nodes_[node].state;
  copy.applied = nodes_[node].applied;
  if (!replay(node, copy, log, log.last(), false)) return std::nullopt;
  return copy.state;
}

}  // namespace millrace::cluster::sim
