#include "raft/raft_log_view.h"

#include <algorithm>
#include <cassert>

namespace millrace::raft {

Index LogView::start() const { return snapshot_ ? snapshot_->index + 1 : log_.start(); }

Index LogView::base_last() const {
  if (snapshot_) return snapshot_->index;
  Index l = log_.last();
  if (truncate_ && *truncate_ - 1 < l) l = *truncate_ - 1;
  return l;
}

Index LogView::stable_last() const { return base_last(); }

Index LogView::last() const { return unstable_.empty() ? base_last() : unstable_.back().last; }

Term LogView::last_term() const { return term_at(last()).value_or(Term(0)); }

size_t LogView::covering(Index i) const {
  auto it = std::lower_bound(unstable_.begin(), unstable_.end(), i,
                             [](const Entry& e, Index x) { return e.last < x; });
  return static_cast<size_t>(it - unstable_.begin());
}

std::optional<Term> LogView::term_at(Index i) const {
  if (!unstable_.empty() && i >= unstable_.front().first) {
    if (i > unstable_.back().last) return std::nullopt;
    return unstable_[covering(i)].term;
  }
  if (snapshot_) {
    if (i == snapshot_->index) return snapshot_->term;
    return std::nullopt;
  }
  if (i > base_last()) return std::nullopt;
  return log_.term_at(i);
}

std::vector<Entry> LogView::entries(Index from, size_t max_bytes) const {
  std::vector<Entry> out;
  if (from < start() || from > last()) return out;
  size_t bytes = 0;
  Index base = base_last();
  if (!snapshot_ && from <= base) {
    out = log_.entries(from, max_bytes);
    while (!out.empty() && out.back().last > base) out.pop_back();  // under a pending truncation
    for (const Entry& e : out) bytes += e.bytes();
    if (!out.empty() && out.back().last != base) return out;  // stopped by the byte budget
  }
  if (unstable_.empty()) return out;
  size_t k = out.empty() ? covering(from) : 0;
  for (; k < unstable_.size(); ++k) {
    if (!out.empty() && bytes + unstable_[k].bytes() > max_bytes) break;
    bytes += unstable_[k].bytes();
    out.push_back(unstable_[k]);
  }
  return out;
}

std::optional<Entry> LogView::entry_at(Index i) const {
  if (!unstable_.empty() && i >= unstable_.front().first) {
    if (i > unstable_.back().last) return std::nullopt;
    return unstable_[covering(i)];
  }
  std::vector<Entry> es = entries(i, 0);
  if (es.empty()) return std::nullopt;
  return es.front();
}

SnapshotMeta LogView::snapshot() const { return snapshot_ ? *snapshot_ : log_.snapshot(); }

Index LogView::find_at_or_below(Index i, Term t) const {
  Index floor = start() - 1;
  Index idx = std::min(i, last());
  while (idx > floor) {
    std::optional<Entry> e = entry_at(idx);
    if (!e) return floor;
    if (e->last <= idx && e->term <= t) return idx;  // a whole entry at or below i, old enough
    idx = e->first - 1;
  }
  return floor;
}

void LogView::append(Entry e) {
  assert(e.first == last() + 1 && e.last >= e.first);  // the core appends only contiguous entries
  unstable_.push_back(std::move(e));
}

void LogView::truncate_from(Index from) {
  if (!unstable_.empty() && from >= unstable_.front().first) {
    while (!unstable_.empty() && unstable_.back().last >= from) unstable_.pop_back();
    return;
  }
  unstable_.clear();
  if (snapshot_) return;
  if (from <= log_.last()) truncate_ = truncate_ ? std::min(*truncate_, from) : from;
}

void LogView::install_snapshot(const SnapshotMeta& m) {
  snapshot_ = m;
  truncate_.reset();
  unstable_.clear();
}

void LogView::stable(bool snapshot, bool truncate, size_t entries) {
  if (snapshot) snapshot_.reset();
  if (truncate) truncate_.reset();
  entries = std::min(entries, unstable_.size());
  unstable_.erase(unstable_.begin(), unstable_.begin() + static_cast<std::ptrdiff_t>(entries));
}

}  // namespace millrace::raft
