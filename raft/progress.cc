#include "raft/progress.h"

#include <algorithm>

namespace millrace::raft {

void Inflights::add(Index last) {
  if (ring_.empty()) ring_.resize(cap_);
  if (full()) return;  // the caller checks full() first; never overwrite
  ring_[(head_ + count_) % cap_] = last;
  ++count_;
}

void Inflights::free_to(Index index) {
  while (count_ > 0 && ring_[head_] <= index) {
    head_ = (head_ + 1) % cap_;
    --count_;
  }
}

void Inflights::free_first() {
  if (count_ == 0) return;
  head_ = (head_ + 1) % cap_;
  --count_;
}

PeerProgress::PeerProgress(NodeId id, Index next, size_t max_inflight, bool learner)
    : id_(id), inflights_(max_inflight) {
  pr_.next = next;
  pr_.learner = learner;
}

void PeerProgress::become_probe() {
  // Back from a snapshot: resume after it (or after match, whichever is later).
  if (pr_.state == Progress::State::kSnapshot) {
    pr_.next = std::max(pr_.match + 1, pending_snapshot_ + 1);
  } else {
    pr_.next = pr_.match + 1;
  }
  pr_.state = Progress::State::kProbe;
  probe_sent_ = false;
  pending_snapshot_ = Index(-1);
  inflights_.reset();
  pr_.inflight = 0;
}

void PeerProgress::become_replicate() {
  pr_.state = Progress::State::kReplicate;
  pr_.next = pr_.match + 1;
  probe_sent_ = false;
  inflights_.reset();
  pr_.inflight = 0;
}

void PeerProgress::become_snapshot(Index snapshot_index) {
  pr_.state = Progress::State::kSnapshot;
  pending_snapshot_ = snapshot_index;
  probe_sent_ = false;
  inflights_.reset();
  pr_.inflight = 0;
}

bool PeerProgress::maybe_update(Index n) {
  bool moved = false;
  if (pr_.match < n) {
    pr_.match = n;
    moved = true;
    probe_sent_ = false;
  }
  pr_.next = std::max(pr_.next, n + 1);
  inflights_.free_to(n);
  pr_.inflight = inflights_.count();
  return moved;
}

bool PeerProgress::maybe_decrease(Index rejected, Index probe) {
  if (pr_.state == Progress::State::kReplicate) {
    if (rejected <= pr_.match) return false;  // stale: that prev was matched since
    pr_.next = pr_.match + 1;
    return true;
  }
  // Probe (or snapshot): only the answer to the append just sent counts.
  if (pr_.next - 1 != rejected) return false;
  // The probe at match itself failed: the replica lost entries it had
  // acknowledged (kInMemory after a crash). Forget them, or we would probe
  // the same index forever.
  if (rejected <= pr_.match) pr_.match = Index(-1);
  pr_.next = std::max(std::min(rejected, probe + 1), pr_.match + 1);
  probe_sent_ = false;
  return true;
}

bool PeerProgress::paused() const {
  switch (pr_.state) {
    case Progress::State::kProbe: return probe_sent_;
    case Progress::State::kReplicate: return inflights_.full();
    case Progress::State::kSnapshot: return true;
  }
  return true;
}

void PeerProgress::sent(Index last, bool had_entries) {
  if (pr_.state == Progress::State::kReplicate) {
    if (had_entries) {
      pr_.next = last + 1;
      inflights_.add(last);
      pr_.inflight = inflights_.count();
    }
  } else if (pr_.state == Progress::State::kProbe) {
    probe_sent_ = true;
  }
}

void PeerProgress::on_heartbeat_response() {
  probe_sent_ = false;
  if (pr_.state == Progress::State::kReplicate && inflights_.full()) {
    inflights_.free_first();
    pr_.inflight = inflights_.count();
  }
}

}  // namespace millrace::raft
