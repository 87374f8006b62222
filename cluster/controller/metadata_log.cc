#include "cluster/controller/metadata_log.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <fstream>
#include <iterator>

#include "cluster/controller/metadata_snapshot.h"
#include "raft/storage/write_ready.h"
#include "protocol/record/batch_builder.h"
#include "protocol/record/batch_header.h"
#include "protocol/record/record_reader.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"
#include "storage/checkpoint.h"

namespace millrace::cluster {
namespace {

storage::Status io_error(const std::string& what) { return {storage::Errc::kStorageError, what}; }

// `vote.hold`: the offset this node had acknowledged as committed before a
// damaged log was cut below it. Until its log reaches it again it grants no
// vote (raft::Options::abstain_until). Framed (storage/checkpoint.h): version
// 1, offset i64, CRC.
constexpr const char* kVoteHoldFile = "vote.hold";

int64_t read_vote_hold(const std::filesystem::path& dir) {
  std::ifstream in(dir / kVoteHoldFile, std::ios::binary);
  if (!in) return -1;
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto framed = storage::decode_framed(bytes, "vote hold");
  // Unreadable: hold votes as far as the log may ever reach rather than guess low.
  if (!framed.ok() || framed->version != 1 || framed->payload.size() != 8) return INT64_MAX;
  wire::Reader r(framed->payload);
  return r.int64();
}

storage::Status write_vote_hold(const std::filesystem::path& dir, int64_t offset) {
  std::vector<uint8_t> payload;
  wire::Writer w(payload);
  w.int64(offset);
  return storage::write_file_atomic(dir / kVoteHoldFile, storage::encode_framed(1, payload));
}

}  // namespace

storage::Result<std::unique_ptr<MetadataLog>> MetadataLog::open(const std::filesystem::path& dir, int32_t me) {
  return open(dir, MetadataLogOptions{.me = me});
}

storage::Result<std::unique_ptr<MetadataLog>> MetadataLog::open(const std::filesystem::path& dir,
                                                                const MetadataLogOptions& options) {
  const int32_t me = options.me;
  raft::Config first;
  std::vector<int32_t> ids = options.voters.empty() && !options.observer ? std::vector<int32_t>{me} : options.voters;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (int32_t v : ids) first.voters.push_back(raft::NodeId(v));
  std::unique_ptr<MetadataLog> m(new MetadataLog());
  m->me_ = me;
  m->observer_ = options.observer;
  m->dynamic_ = options.dynamic;
  storage::LogOptions o;
  o.hw_policy = storage::HwPolicy::kManual;  // the high watermark is Raft's commit
  auto s = storage::Log::open(dir / kMetadataPartitionDir, o);
  if (!s.ok()) return s.status();
  m->storage_ = *s;
  auto l = raft::PartitionRaftLog::open(m->storage_);
  if (!l.ok()) return l.status();
  m->log_ = std::move(*l);
  m->hard_state_ = std::make_unique<raft::HardStateFile>(dir / kMetadataPartitionDir / raft::kHardStateFileName);
  auto hs = m->hard_state_->read();
  if (!hs.ok()) return hs.status();
  const raft::NodeId self(me);
  if (*hs == raft::HardState{} && m->log_->last() < raft::Index(0) && m->log_->snapshot().config.voters.empty() &&
      !first.voters.empty() && !options.dynamic) {
    // A new quorum: its first configuration (the voters) stands below offset 0.
    if (!m->log_->install_snapshot(raft::SnapshotMeta{raft::Index(-1), raft::Term(0), first}))
      return m->log_->last_error();
  }
  m->dir_ = dir / kMetadataPartitionDir;
  m->vote_hold_ = read_vote_hold(m->dir_);
  if (auto st = m->repair_damaged_tail(*hs, first); !st.ok()) return st;
  m->snapshot_bytes_ = options.snapshot_bytes;
  // The newest snapshot at or below what this node knows is committed: the
  // state up to it without replaying the log before it.
  if (auto snap = load_metadata_snapshot(m->dir_, hs->commit.value(), m->skipped_snapshots);
      snap && snap->offset >= m->log_->start().value() - 1) {
    m->state_ = std::move(snap->state);
    m->applied_ = snap->offset;
    m->snapshot_offset_ = snap->offset;
  }
  if (m->applied_ < m->log_->start().value() - 1) {
    // The log was cut below a snapshot that no longer reads back: replaying
    // what is left onto an empty state would build a wrong image.
    std::string why = "metadata log starts at offset " + std::to_string(m->log_->start().value()) +
                      " but no readable snapshot covers what was cut";
    for (const auto& s : m->skipped_snapshots) why += "; " + s;
    auto config = m->log_->snapshot().config;
    if (m->sole_copy(config))
      return storage::Status(storage::Errc::kCorruptSegment, why + ": restore the directory (no other copy)");
    // Other replicas hold it: start the log again empty; the leader sends its
    // snapshot and the rest (this node's commit index no longer vouches for any of it).
    if (auto st = m->hold_votes(hs->commit.value()); !st.ok()) return st;
    if (!m->log_->install_snapshot(raft::SnapshotMeta{raft::Index(-1), raft::Term(0), config}))
      return m->log_->last_error();
    hs->commit = raft::Index(-1);
    if (auto st = m->hard_state_->write(*hs); !st.ok()) return st;
    m->repaired_from_ = 0;
    m->skipped_snapshots.push_back(why + ": log emptied, to be refilled from the leader");
  }
  raft::Options opts;
  opts.id = self;
  opts.group = raft::GroupId(0);
  opts.seed = static_cast<uint64_t>(me) * 7919 + static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  opts.election_ticks = options.election_ticks;
  if (m->vote_hold_ >= 0 && m->log_->last().value() < m->vote_hold_) opts.abstain_until = raft::Index(m->vote_hold_);
  m->raft_ = std::make_unique<raft::Raft>(opts, *m->log_, *hs);
  // The high watermark is the commit the hard state restored (Raft reports
  // only changes of it): without this a snapshot taken while replaying could
  // not cut the log below it (delete_records_before stops at the HW).
  m->log_->set_commit(m->raft_->commit());
  const auto& cfg = m->raft_->config();
  if (!(cfg.voters.size() == 1 && cfg.voters.front() == self && !cfg.joint())) {
    // Other voters (or this node is not one: an observer following them):
    // elections and replication run on the owner's ticks.
    std::vector<raft::Message> none;
    if (auto st = m->drive(none); !st.ok()) return st;
    return m;
  }
  // A one-voter group elects itself at once; its first entry (the leader
  // change) commits everything before it.
  m->raft_->campaign();
  if (auto st = m->drive(); !st.ok()) return st;
  for (int i = 0; i < 100 && m->raft_->role() != raft::Role::kLeader; ++i) {
    m->raft_->tick();
    if (auto st = m->drive(); !st.ok()) return st;
  }
  if (m->raft_->role() != raft::Role::kLeader)
    return storage::Status(storage::Errc::kStorageError, "metadata log: this node did not become its quorum's leader");
  return m;
}

MetadataLog::~MetadataLog() { (void)close(); }

storage::Status MetadataLog::repair_damaged_tail(raft::HardState& hs, const raft::Config& voters) {
  auto config = log_->snapshot().config.voters.empty() ? voters : log_->snapshot().config;
  if (sole_copy(config)) return {};  // no other copy: apply_committed fails naming the offset
  std::optional<raft::Index> bad;
  for (auto from = log_->start(); from <= log_->last() && !bad;) {
    auto batch = log_->entries(from, 1 << 20);
    if (batch.empty()) break;
    for (const auto& e : batch) {
      if (e.type == raft::EntryType::kData && e.data && record::validate_batch(*e.data) != record::BatchError::kOk) {
        bad = e.first;
        break;
      }
      from = raft::Index(e.last.value() + 1);
    }
  }
  const int64_t keep_last = bad ? bad->value() - 1 : log_->last().value();
  if (bad) {
    if (!log_->truncate_suffix(*bad)) return log_->last_error();
    if (!log_->sync()) return log_->last_error();
  }
  if (hs.commit.value() > keep_last) {
    // The cut entries were committed: the leader holds them and sends them
    // again. Until then this node's commit index must not vouch for them,
    // nor its vote elect a leader without them.
    if (auto st = hold_votes(hs.commit.value()); !st.ok()) return st;
    hs.commit = raft::Index(keep_last);
    if (auto st = hard_state_->write(hs); !st.ok()) return st;
  }
  if (bad) repaired_from_ = bad->value();
  return {};
}

storage::Status MetadataLog::drive() {
  std::vector<raft::Message> out;
  return drive(out);
}

void MetadataLog::tick() { raft_->tick(); }

void MetadataLog::step(const raft::Message& m) { raft_->step(m); }

storage::Status MetadataLog::drive(std::vector<raft::Message>& out) {
  const int64_t before = applied_;
  for (int guard = 0; raft_->has_ready() && guard < 1000; ++guard) {
    raft::Ready rd = raft_->ready();
    std::optional<MetadataSnapshot> installed;
    // raft.h's driver order: snapshot, truncate, append, sync, hard state,
    // send, commit, advance.
    if (rd.snapshot) {
      // The leader's log starts past ours: its snapshot (fetched beforehand,
      // controller_quorum.h) replaces our state and log up to its offset.
      std::vector<std::string> skipped;
      auto snap = load_metadata_snapshot(dir_, rd.snapshot->index.value(), skipped);
      if (rd.snapshot->index.value() >= 0 && (!snap || snap->offset != rd.snapshot->index.value()))
        return {storage::Errc::kCorruptSegment, "metadata log: no snapshot file at offset " +
                                                    std::to_string(rd.snapshot->index.value()) + " to install"};
      installed = std::move(snap);
    }
    if (auto st = raft::write_ready(*log_, *hard_state_, rd); !st.ok()) return st;
    if (installed) {
      state_ = std::move(installed->state);
      applied_ = installed->offset;
      snapshot_offset_ = installed->offset;
      bytes_since_snapshot_ = 0;
      ++snapshots_installed_;
    }
    for (auto& msg : rd.messages) out.push_back(std::move(msg));
    if (rd.commit) log_->set_commit(*rd.commit);
    raft_->advance(rd);
  }
  auto st = apply_committed();
  if (vote_hold_ >= 0 && log_->last().value() >= vote_hold_) {
    std::error_code ec;
    std::filesystem::remove(dir_ / kVoteHoldFile, ec);
    vote_hold_ = -1;
  }
  if (st.ok() && bytes_since_snapshot_ >= snapshot_bytes_ && applied_ > snapshot_offset_) {
    if (auto w = write_metadata_snapshot(dir_, applied_, state_); w.ok()) {
      // Two snapshots are kept; the log is cut below the older one (so a
      // newest one that fails to read back still leaves a way to the state).
      // A replica that needs what was cut fetches the older snapshot.
      if (snapshot_offset_ >= 0 && snapshot_offset_ + 1 > storage_->log_start_offset().value() &&
          snapshot_offset_ + 1 <= storage_->high_watermark().value()) {
        if (auto cut = storage_->delete_records_before(Offset(snapshot_offset_ + 1)); !cut.ok())
          st = cut.status();
      }
      snapshot_offset_ = applied_;
      bytes_since_snapshot_ = 0;
    } else {
      st = w;
    }
  }
  if (st.ok() && applied_ != before && on_applied) on_applied(applied_);
  QuorumStatus q;
  q.leader_id = raft_->leader().value();
  q.leader_epoch = static_cast<int32_t>(raft_->term().value());
  q.high_watermark = raft_->commit().value() + 1;
  q.log_end_offset = log_->last().value() + 1;
  for (auto l : raft_->config().learners) {
    const auto id = static_cast<int32_t>(l.value());
    q.observers.push_back(id);
    if (raft_->role() != raft::Role::kLeader) continue;
    if (auto pr = raft_->progress(l)) {
      q.voter_log_end[id] = pr->match.value() + 1;
      q.voter_active[id] = pr->recent_active;
    }
  }
  for (auto v : raft_->config().voters) {
    q.voters.push_back(static_cast<int32_t>(v.value()));
    if (raft_->role() != raft::Role::kLeader) continue;
    if (v == raft_->id()) {
      q.voter_log_end[q.voters.back()] = q.log_end_offset;
      q.voter_active[q.voters.back()] = true;
    } else if (auto pr = raft_->progress(v)) {
      q.voter_log_end[q.voters.back()] = pr->match.value() + 1;
      q.voter_active[q.voters.back()] = pr->recent_active;
    }
  }
  std::lock_guard lk(status_mu_);
  status_ = std::move(q);
  return st;
}

bool MetadataLog::sole_copy(const raft::Config& c) const {
  if (c.voters.empty()) return !observer_ && !dynamic_;  // a new static quorum of this node alone
  return c.voters.size() == 1 && !c.joint() && c.voters.front() == raft::NodeId(me_);
}

storage::Status MetadataLog::hold_votes(int64_t until) {
  if (until <= vote_hold_) return {};
  if (auto st = write_vote_hold(dir_, until); !st.ok()) return st;
  vote_hold_ = until;
  return {};
}

bool MetadataLog::has_snapshot(int64_t offset) const {
  auto offs = metadata_snapshot_offsets(dir_);
  return std::find(offs.begin(), offs.end(), offset) != offs.end();
}

std::optional<std::vector<uint8_t>> MetadataLog::snapshot_file(int64_t offset) const {
  return read_metadata_snapshot_file(dir_, offset);
}

storage::Status MetadataLog::store_snapshot(int64_t offset, const std::vector<uint8_t>& bytes) {
  // Never below what this node already has: an older file would only be pruned.
  return store_metadata_snapshot_file(dir_, offset, bytes, 3);
}

int64_t MetadataLog::log_start() const { return log_->start().value(); }

bool MetadataLog::follows(int32_t node) const {
  const auto& c = raft_->config();
  return c.is_voter(raft::NodeId(node)) || c.is_learner(raft::NodeId(node));
}


storage::Status MetadataLog::add_observers(const std::vector<int32_t>& nodes) {
  raft::Config target = raft_->config();
  for (int32_t n : nodes)
    if (!target.is_voter(raft::NodeId(n)) && !target.is_learner(raft::NodeId(n))) target.learners.push_back(raft::NodeId(n));
  if (target == raft_->config()) return {};
  std::sort(target.learners.begin(), target.learners.end());
  auto p = raft_->propose_config(target);
  if (!p.ok())
    return {p.error == raft::ProposeError::kNotLeader ? storage::Errc::kClosed : storage::Errc::kInvalidArgument,
            "metadata log: adding observers: " + (p.message.empty() ? std::string(raft::to_string(p.error)) : p.message)};
  return {};
}

bool MetadataLog::is_voter(int32_t node) const { return raft_->config().is_voter(raft::NodeId(node)); }

std::vector<int32_t> MetadataLog::voters() const {
  std::vector<int32_t> out;
  for (auto v : raft_->config().voters) out.push_back(static_cast<int32_t>(v.value()));
  return out;
}

namespace {
storage::Status config_error(const raft::ProposeResult& p, const std::string& what) {
  return {p.error == raft::ProposeError::kNotLeader ? storage::Errc::kClosed : storage::Errc::kInvalidArgument,
          "metadata log: " + what + ": " + (p.message.empty() ? std::string(raft::to_string(p.error)) : p.message)};
}
}  // namespace

storage::Status MetadataLog::add_voter(int32_t node) {
  const raft::NodeId n(node);
  raft::Config target = raft_->config();
  if (target.is_voter(n)) return {storage::Errc::kInvalidArgument, "node " + std::to_string(node) + " is already a voter"};
  if (!target.is_learner(n))
    return {storage::Errc::kInvalidArgument, "node " + std::to_string(node) + " is not following the metadata log"};
  target.learners.erase(std::find(target.learners.begin(), target.learners.end(), n));
  target.voters.insert(std::upper_bound(target.voters.begin(), target.voters.end(), n), n);
  auto p = raft_->propose_config(target);
  return p.ok() ? storage::Status{} : config_error(p, "adding voter " + std::to_string(node));
}

storage::Status MetadataLog::remove_voter(int32_t node) {
  const raft::NodeId n(node);
  raft::Config target = raft_->config();
  auto it = std::find(target.voters.begin(), target.voters.end(), n);
  if (it == target.voters.end())
    return {storage::Errc::kInvalidArgument, "node " + std::to_string(node) + " is not a voter"};
  if (target.voters.size() == 1)
    return {storage::Errc::kInvalidArgument, "node " + std::to_string(node) + " is the last voter"};
  target.voters.erase(it);
  auto p = raft_->propose_config(target);
  return p.ok() ? storage::Status{} : config_error(p, "removing voter " + std::to_string(node));
}

bool MetadataLog::config_settled() const {
  if (raft_->config().joint()) return false;
  auto entries = log_->config_entries();
  return entries.empty() || entries.back().last <= raft_->commit();
}

int64_t MetadataLog::log_end_of(int32_t node) const {
  if (raft_->role() != raft::Role::kLeader) return -1;
  if (node == me_) return log_->last().value() + 1;
  auto pr = raft_->progress(raft::NodeId(node));
  return pr ? pr->match.value() + 1 : -1;
}

QuorumStatus MetadataLog::status() const {
  std::lock_guard lk(status_mu_);
  return status_;
}

storage::Status MetadataLog::apply_committed() {
  const int64_t commit = raft_->commit().value();
  if (commit <= applied_) return {};
  auto from = raft::Index(std::max<int64_t>(applied_ + 1, log_->start().value()));
  for (const auto& e : log_->entries(from, SIZE_MAX)) {
    if (e.last.value() > commit) break;
    if (e.type == raft::EntryType::kData && e.data) {
      bytes_since_snapshot_ += static_cast<int64_t>(e.data->size());
      // Every batch is checked, not only the tail recovery looks at: bytes
      // that changed on disk after a clean shutdown must not become metadata.
      if (record::validate_batch(*e.data) != record::BatchError::kOk)
        return {storage::Errc::kCorruptSegment,
                "metadata log offset " + std::to_string(e.first.value()) +
                    ": batch CRC mismatch (damaged on disk); not applied. A voter of a larger quorum fetches it "
                    "again from the leader; a one-voter quorum has no other copy: restore the directory"};
      std::vector<uint8_t> scratch;
      record::RecordReader reader(*e.data, scratch);
      record::Record rec;
      int64_t offset = e.first.value();
      while (reader.next(rec)) {
        if (!rec.value)
          return io_error("metadata log offset " + std::to_string(offset) + ": a record without a value");
        auto decoded = records::decode_record(*rec.value);
        if (!decoded.ok()) return io_error("metadata log offset " + std::to_string(offset) + ": " + decoded.error);
        if (auto why = state_.apply(decoded.value.record); !why.empty())
          return io_error("metadata log offset " + std::to_string(offset) + ": " + why);
        ++offset;
      }
      if (!reader.status().ok())
        return io_error("metadata log offset " + std::to_string(e.first.value()) + ": unreadable batch");
    }
    applied_ = e.last.value();
  }
  applied_ = std::max(applied_, commit);
  return {};
}

storage::Result<int64_t> MetadataLog::write(const std::vector<records::AnyRecord>& records) {
  auto p = propose(records);
  if (!p.ok()) return p.status();
  if (auto st = drive(); !st.ok()) return st;
  if (applied_ < *p) return io_error("metadata log: entry " + std::to_string(*p) + " not committed");
  return *p;
}

storage::Result<int64_t> MetadataLog::propose(const std::vector<records::AnyRecord>& records, int64_t* proposed_term) {
  if (records.empty()) return storage::Status(storage::Errc::kInvalidArgument, "no records to write");
  // Check first: the log takes only what applies (the state itself changes on commit).
  MetadataState trial = state_;
  for (const auto& r : records)
    if (auto why = trial.apply(r); !why.empty()) return storage::Status(storage::Errc::kInvalidArgument, why);
  record::BatchBuilder builder(record::BatchOptions{});
  std::vector<std::vector<uint8_t>> frames;
  frames.reserve(records.size());
  for (const auto& r : records) {
    frames.push_back(records::encode_record(r));
    builder.append(0, std::nullopt, std::span<const uint8_t>(frames.back()));
  }
  auto batch = std::make_shared<std::vector<uint8_t>>();
  if (!builder.finish(*batch).ok()) return io_error("metadata log: cannot build a batch");
  auto p = raft_->propose(std::move(batch), static_cast<int32_t>(records.size()));
  if (!p.ok())
    return storage::Status(p.error == raft::ProposeError::kNotLeader || p.error == raft::ProposeError::kTransferring
                               ? storage::Errc::kClosed
                               : storage::Errc::kStorageError,
                           "metadata log: " + (p.message.empty() ? std::string(raft::to_string(p.error)) : p.message));
  if (proposed_term) *proposed_term = static_cast<int64_t>(p.term.value());
  return p.last.value();
}

storage::Status MetadataLog::close() {
  raft_.reset();
  log_.reset();
  storage::Status st;
  if (storage_) st = storage_->close();
  storage_.reset();
  return st;
}

}  // namespace millrace::cluster
