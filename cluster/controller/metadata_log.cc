#include "cluster/controller/metadata_log.h"

#include "protocol/record/batch_builder.h"
#include "protocol/record/batch_header.h"
#include "protocol/record/record_reader.h"

namespace millrace::cluster {
namespace {

storage::Status io_error(const std::string& what) { return {storage::Errc::kStorageError, what}; }

}  // namespace

storage::Result<std::unique_ptr<MetadataLog>> MetadataLog::open(const std::filesystem::path& dir, int32_t me) {
  std::unique_ptr<MetadataLog> m(new MetadataLog());
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
  if (*hs == raft::HardState{} && m->log_->last() < raft::Index(0) && m->log_->snapshot().config.voters.empty()) {
    // A new quorum: its first configuration (this node alone) stands below offset 0.
    if (!m->log_->install_snapshot(raft::SnapshotMeta{raft::Index(-1), raft::Term(0), raft::Config{{self}, {}, {}}}))
      return m->log_->last_error();
  }
  raft::Options opts;
  opts.id = self;
  opts.group = raft::GroupId(0);
  opts.seed = static_cast<uint64_t>(me) + 1;
  m->raft_ = std::make_unique<raft::Raft>(opts, *m->log_, *hs);
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

storage::Status MetadataLog::drive() {
  for (int guard = 0; raft_->has_ready() && guard < 1000; ++guard) {
    raft::Ready rd = raft_->ready();
    // raft.h's driver order: snapshot, truncate, append, sync, hard state,
    // (send: no peers yet), commit, advance.
    if (rd.snapshot && !log_->install_snapshot(*rd.snapshot)) return log_->last_error();
    if (rd.truncate_from && !log_->truncate_suffix(*rd.truncate_from)) return log_->last_error();
    if (!rd.entries.empty() && !log_->append(rd.entries)) return log_->last_error();
    if (rd.must_sync && !log_->sync()) return log_->last_error();
    if (rd.hard_state) {
      if (auto st = hard_state_->write(*rd.hard_state); !st.ok()) return st;
    }
    if (rd.commit) log_->set_commit(*rd.commit);
    raft_->advance(rd);
  }
  auto st = apply_committed();
  QuorumStatus q;
  q.leader_id = raft_->leader().value();
  q.leader_epoch = static_cast<int32_t>(raft_->term().value());
  q.high_watermark = raft_->commit().value() + 1;
  q.log_end_offset = log_->last().value() + 1;
  for (auto v : raft_->config().voters) q.voters.push_back(static_cast<int32_t>(v.value()));
  std::lock_guard lk(status_mu_);
  status_ = std::move(q);
  return st;
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
  if (!p.ok()) return io_error("metadata log: " + p.message);
  if (auto st = drive(); !st.ok()) return st;
  if (applied_ < p.last.value()) return io_error("metadata log: entry " + std::to_string(p.last.value()) + " not committed");
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
