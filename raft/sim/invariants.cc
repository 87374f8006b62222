#include "raft/sim/invariants.h"

#include <algorithm>

namespace millrace::raft::sim {

namespace {
std::string str(Index i) { return std::to_string(i.value()); }
std::string str(Term t) { return std::to_string(t.value()); }
std::string describe(const Entry& e) {
  std::string s = "[";
  s.append(str(e.first)).append("..").append(str(e.last)).append("]@t").append(str(e.term));
  s.append(" ").append(std::to_string(e.bytes())).append("B");
  return s;
}
std::string found(const Entry* e) {
  std::string s = " (";
  if (e == nullptr) {
    s.append("absent)");
    return s;
  }
  s.append("has ").append(describe(*e)).append(")");
  return s;
}
}  // namespace

InvariantChecker::InvariantChecker(int nodes, bool strict_durability)
    : strict_(strict_durability),
      commit_(static_cast<size_t>(nodes) + 1, Index(-1)),
      commit_high_(static_cast<size_t>(nodes) + 1, Index(-1)),
      pairs_(static_cast<size_t>(nodes) + 1, std::vector<Pair>(static_cast<size_t>(nodes) + 1)) {}

void InvariantChecker::fail(std::string msg) {
  if (error_.empty()) error_ = std::move(msg);
}

void InvariantChecker::on_leader(int node, Term term, const SimLog& log) {
  auto [it, fresh] = leaders_.emplace(term, node);
  if (!fresh && it->second != node)
    fail("election safety: nodes " + std::to_string(it->second) + " and " + std::to_string(node) +
         " both leader in term " + str(term));
  // Leader completeness: every entry committed in an earlier term is here.
  for (const auto& [idx, c] : committed_) {
    if (c.seen_in >= term) continue;
    if (idx < log.start() - 1) continue;  // below the log start: summarised
    if (idx == log.start() - 1) {
      if (log.snapshot().term != c.entry.term)
        fail("leader completeness: leader " + std::to_string(node) + " of term " + str(term) + " has snapshot term " +
             str(log.snapshot().term) + " at committed index " + str(idx));
      continue;
    }
    const Entry* e = log.find(idx);
    if (e == nullptr || !(*e == c.entry))
      fail("leader completeness: leader " + std::to_string(node) + " of term " + str(term) + " lacks committed entry " +
           describe(c.entry) + found(e));
  }
}

void InvariantChecker::on_commit(int node, Term term, Index commit, const SimLog& log) {
  auto k = static_cast<size_t>(node);
  if (commit < commit_[k])
    fail("commit index went back on node " + std::to_string(node) + ": " + str(commit_[k]) + " -> " + str(commit));
  Index from = std::max(commit_[k] + 1, log.start());
  commit_[k] = commit;
  commit_high_[k] = std::max(commit_high_[k], commit);
  highest_commit_ = std::max(highest_commit_, commit);
  if (commit > log.last())
    fail("node " + std::to_string(node) + " commit " + str(commit) + " beyond its log end " + str(log.last()));
  const std::vector<Entry>& es = log.all();
  auto it = std::lower_bound(es.begin(), es.end(), from, [](const Entry& e, Index x) { return e.last < x; });
  for (; it != es.end() && it->last <= commit; ++it) {
    auto [c, fresh] = committed_.emplace(it->last, Committed{*it, term});
    if (fresh) continue;
    c->second.seen_in = std::min(c->second.seen_in, term);
    if (!(c->second.entry == *it))
      fail("committed entry differs: node " + std::to_string(node) + " committed " + describe(*it) + " where " +
           describe(c->second.entry) + " was committed");
  }
}

void InvariantChecker::on_leader_commit(int node, Term term, Index commit, const SimLog& log) {
  std::optional<Term> t = log.term_at(commit);
  if (!t || *t != term)
    fail("commit rule (5.4): leader " + std::to_string(node) + " of term " + str(term) + " moved its commit to " +
         str(commit) + ", an entry of term " + (t ? str(*t) : std::string("?")));
}

void InvariantChecker::before_truncate(int node, const SimLog& log, Index from) {
  if (from <= commit_[static_cast<size_t>(node)])
    fail("node " + std::to_string(node) + " truncates from " + str(from) + " at or below its commit " +
         str(commit_[static_cast<size_t>(node)]));
  // Not checked: entries above the node's own commit that were committed
  // elsewhere. A leader of a term between this node's and the commit's may
  // legally overwrite them here (a minority copy); leader completeness
  // binds only leaders of later terms than the commit.
  (void)log;
}

void InvariantChecker::before_snapshot(int node, const SimLog& log, const SnapshotMeta& meta) {
  auto c = committed_.find(meta.index);
  if (c != committed_.end() && c->second.entry.term != meta.term)
    fail("snapshot at " + str(meta.index) + "@t" + str(meta.term) + " for node " + std::to_string(node) +
         " disagrees with committed " + describe(c->second.entry));
  if (meta.index < commit_[static_cast<size_t>(node)])
    fail("node " + std::to_string(node) + " installs snapshot " + str(meta.index) + " below its commit " +
         str(commit_[static_cast<size_t>(node)]));
  (void)log;  // entries above the node's commit may go (see before_truncate)
}

void InvariantChecker::check_holds_committed(int node, const SimLog& log, Index upto, const char* when) {
  for (auto it = committed_.lower_bound(log.start()); it != committed_.end() && it->first <= upto; ++it) {
    const Entry* e = log.find(it->first);
    if (e == nullptr || !(*e == it->second.entry))
      fail(std::string("committed entry lost ") + when + ": node " + std::to_string(node) + " lacks " +
           describe(it->second.entry) + found(e));
  }
}

void InvariantChecker::on_restart(int node, const SimLog& log, Index commit) {
  auto k = static_cast<size_t>(node);
  if (strict_) check_holds_committed(node, log, commit_high_[k], "in a crash");
  // The commit index read back from the term/vote file vouches for the log up
  // to it: every entry there must be the one committed (a driver that wrote
  // the file before syncing the log can come back with a stale suffix here).
  const std::vector<Entry>& es = log.all();
  auto it = std::lower_bound(es.begin(), es.end(), log.start(), [](const Entry& e, Index x) { return e.last < x; });
  for (; it != es.end() && it->last <= commit; ++it) {
    auto c = committed_.find(it->last);
    if (c != committed_.end() && !(c->second.entry == *it))
      fail("node " + std::to_string(node) + " restarted with commit " + str(commit) + " over " + describe(*it) +
           " where " + describe(c->second.entry) + " was committed");
  }
  commit_[k] = commit;  // monotonic again from here, while up
}

void InvariantChecker::on_ack(uint64_t id, Index last, Term term, const Payload& data) {
  auto c = committed_.find(last);
  if (c == committed_.end() || c->second.entry.term != term ||
      !(c->second.entry.bytes() == (data ? data->size() : 0) && (!data || *c->second.entry.data == *data)))
    fail("acknowledged proposal " + std::to_string(id) + " at " + str(last) + "@t" + str(term) +
         " is not what was committed there");
  acked_[id] = {last, term};
}

void InvariantChecker::check_acked_in(int node, const SimLog& log, Index commit) {
  for (const auto& [id, at] : acked_) {
    if (at.first < log.start() || at.first > commit) continue;
    const Entry* e = log.find(at.first);
    if (e == nullptr || e->term != at.second)
      fail("acknowledged proposal " + std::to_string(id) + " at " + str(at.first) + "@t" + str(at.second) +
           " missing from the committed log of node " + std::to_string(node));
  }
}

void InvariantChecker::check_step(const std::vector<const SimLog*>& logs, const std::vector<int32_t>& leader_terms) {
  for (size_t k = 0; k < leader_terms.size(); ++k) {
    if (leader_terms[k] < 0) continue;
    auto it = leaders_.find(Term(leader_terms[k]));
    if (it != leaders_.end() && it->second != static_cast<int>(k) + 1)
      fail("election safety: nodes " + std::to_string(it->second) + " and " + std::to_string(k + 1) +
           " both leader in term " + std::to_string(leader_terms[k]));
  }
  for (size_t a = 0; a < logs.size(); ++a)
    for (size_t b = a + 1; b < logs.size(); ++b)
      check_pair(static_cast<int>(a) + 1, static_cast<int>(b) + 1, *logs[a], *logs[b], pairs_[a + 1][b + 1]);
}

void InvariantChecker::check_pair(int a, int b, const SimLog& la, const SimLog& lb, Pair& p) {
  if (p.rewrites_a != la.rewrites() || p.rewrites_b != lb.rewrites()) {
    p = Pair{la.rewrites(), lb.rewrites(), Index(-1)};
  }
  const std::vector<Entry>& ea = la.all();
  const std::vector<Entry>& eb = lb.all();
  Index lo = std::max({la.start(), lb.start(), p.verified + 1});
  auto by_last = [](const Entry& e, Index x) { return e.last < x; };
  auto ia = std::lower_bound(ea.begin(), ea.end(), lo, by_last);
  auto ib = std::lower_bound(eb.begin(), eb.end(), lo, by_last);
  while (ia != ea.end() && ib != eb.end() && *ia == *ib) {
    p.verified = ia->last;
    ++ia;
    ++ib;
  }
  if (ia == ea.end() || ib == eb.end()) return;
  // First difference at or above d. Same index and term there: two different
  // entries for one (index, term).
  Index d = std::min(ia->last, ib->last);
  if (ia->last == ib->last && ia->term == ib->term) {
    fail("log matching: nodes " + std::to_string(a) + " and " + std::to_string(b) + " hold different entries " +
         describe(*ia) + " and " + describe(*ib) + " at one index and term");
    return;
  }
  // Above d no entry may share index and term (their prefixes differ at d).
  // Terms only grow along a log, so walk the two run lists.
  const std::vector<TermRun>& ra = la.runs();
  const std::vector<TermRun>& rb = lb.runs();
  size_t x = 0, y = 0;
  while (x < ra.size() && ra[x].to <= d) ++x;
  while (y < rb.size() && rb[y].to <= d) ++y;
  while (x < ra.size() && y < rb.size()) {
    if (ra[x].term < rb[y].term) { ++x; continue; }
    if (rb[y].term < ra[x].term) { ++y; continue; }
    Index from = std::max({ra[x].from, rb[y].from, d + 1});
    Index to = std::min(ra[x].to, rb[y].to);
    for (auto e = std::lower_bound(ea.begin(), ea.end(), from, by_last); e != ea.end() && e->last <= to; ++e) {
      const Entry* o = lb.find(e->last);
      if (o != nullptr && o->term == e->term) {
        fail("log matching: nodes " + std::to_string(a) + " and " + std::to_string(b) + " share " + str(e->last) +
             "@t" + str(e->term) + " but differ below it at " + str(d));
        return;
      }
    }
    ++x;
    ++y;
  }
}

}  // namespace millrace::raft::sim
