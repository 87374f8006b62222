#include "raft/sim/sim_log.h"

#include <algorithm>

namespace millrace::raft::sim {

bool SimLog::append(const std::vector<Entry>& es) {
  if (!live_.append(es)) return false;
  journal_.push_back(Write{Write::Kind::kAppend, es, Index(0), {}});
  for (const Entry& e : es) {
    if (!runs_.empty() && runs_.back().term == e.term) runs_.back().to = e.last;
    else runs_.push_back(TermRun{e.term, e.last, e.last});
  }
  return true;
}

bool SimLog::truncate_suffix(Index from) {
  if (!live_.truncate_suffix(from)) return false;
  journal_.push_back(Write{Write::Kind::kTruncate, {}, from, {}});
  ++rewrites_;
  rebuild_runs();
  return true;
}

bool SimLog::install_snapshot(const SnapshotMeta& meta) {
  if (!live_.install_snapshot(meta)) return false;
  journal_.push_back(Write{Write::Kind::kSnapshot, {}, Index(0), meta});
  ++rewrites_;
  runs_.clear();
  return true;
}

bool SimLog::sync() {
  if (!live_.sync()) return false;
  durable_ = live_;
  journal_.clear();
  return true;
}

bool SimLog::move_start(Index new_start) {
  if (!live_.move_start(new_start)) return false;
  durable_.move_start(new_start);  // may refuse: the durable log is behind
  ++rewrites_;
  rebuild_runs();
  return true;
}

void SimLog::apply(testing::MemoryLog& log, const Write& w) {
  switch (w.kind) {
    case Write::Kind::kAppend: log.append(w.entries); break;
    case Write::Kind::kTruncate: log.truncate_suffix(w.from); break;
    case Write::Kind::kSnapshot: log.install_snapshot(w.meta); break;
  }
}

std::string SimLog::crash(std::mt19937_64& rng, bool allow_torn) {
  size_t n = journal_.size();
  size_t keep = n == 0 ? 0 : rng() % (n + 1);
  testing::MemoryLog restored = durable_;
  for (size_t k = 0; k < keep; ++k) apply(restored, journal_[k]);
  std::string what = "kept " + std::to_string(keep) + "/" + std::to_string(n) + " unsynced writes";
  if (allow_torn && keep < n && journal_[keep].kind == Write::Kind::kAppend && journal_[keep].entries.size() > 1) {
    // The next write was torn: only whole entries before the tear survive.
    const std::vector<Entry>& es = journal_[keep].entries;
    size_t whole = rng() % es.size();
    if (whole > 0) restored.append(std::vector<Entry>(es.begin(), es.begin() + static_cast<std::ptrdiff_t>(whole)));
    what += ", next torn after " + std::to_string(whole) + "/" + std::to_string(es.size()) + " entries";
  }
  live_ = restored;
  durable_ = restored;
  journal_.clear();
  ++rewrites_;
  rebuild_runs();
  return what;
}

const Entry* SimLog::find(Index i) const {
  const std::vector<Entry>& es = live_.all();
  auto it = std::lower_bound(es.begin(), es.end(), i, [](const Entry& e, Index x) { return e.last < x; });
  if (it == es.end() || it->last != i) return nullptr;
  return &*it;
}

bool SimLog::corrupt_for_test(Index i) {
  const Entry* e = find(i);
  if (e == nullptr) return false;
  Entry bad = *e;
  std::vector<uint8_t> bytes = bad.data ? *bad.data : std::vector<uint8_t>{};
  bytes.push_back(0xEE);
  bad.data = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  // Rewrite the suffix from i with the corrupted entry in place.
  std::vector<Entry> tail;
  for (const Entry& x : live_.all())
    if (x.last >= i) tail.push_back(x.last == i ? bad : x);
  for (testing::MemoryLog* log : {&live_, &durable_}) {
    if (log->last() < i) continue;
    std::vector<Entry> t;
    for (const Entry& x : tail)
      if (x.last <= log->last()) t.push_back(x);
    log->truncate_suffix(t.front().first);
    log->append(t);
  }
  ++rewrites_;
  rebuild_runs();
  return true;
}

void SimLog::rebuild_runs() {
  runs_.clear();
  for (const Entry& e : live_.all()) {
    if (!runs_.empty() && runs_.back().term == e.term) runs_.back().to = e.last;
    else runs_.push_back(TermRun{e.term, e.last, e.last});
  }
}

}  // namespace millrace::raft::sim
