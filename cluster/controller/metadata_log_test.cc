#include "cluster/controller/metadata_log.h"

#include <gtest/gtest.h>

#include <fstream>

#include "cluster/controller/topic_control.h"
#include "storage/test_util.h"

namespace millrace::cluster {
namespace {

using storage::testing::TempDir;
using namespace records;

std::vector<AnyRecord> register_self(int32_t id) {
  RegisterBrokerRecord r;
  r.broker_id = id;
  r.broker_epoch = 1;
  r.fenced = false;
  return {r};
}

TopicId id_of(uint8_t n) {
  TopicId id{};
  id[0] = 0x40;
  id[15] = n;
  return id;
}

std::filesystem::path segment_of(const std::filesystem::path& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir / kMetadataPartitionDir))
    if (e.path().extension() == ".log") return e.path();
  return {};
}

TEST(MetadataLog, WritesCommitApplyAndSurviveARestart) {
  TempDir dir;
  MetadataState expected;
  int64_t last = -1;
  {
    auto m = MetadataLog::open(dir.path(), 1);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    auto w = (*m)->write(register_self(1));
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    auto topic = create_topic((*m)->state(), {"orders", 3, 1, {{"retention.ms", "1000"}}}, id_of(1));
    ASSERT_TRUE(topic.ok()) << topic.message;
    auto w2 = (*m)->write(topic.records);
    ASSERT_TRUE(w2.ok()) << w2.status().to_string();
    EXPECT_GT(*w2, *w);
    ASSERT_TRUE((*m)->state().topic("orders"));
    EXPECT_EQ((*m)->state().topic("orders")->partitions.size(), 3u);
    expected = (*m)->state();
    last = (*m)->applied_offset();
    ASSERT_TRUE((*m)->close().ok());
  }
  auto again = MetadataLog::open(dir.path(), 1);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ((*again)->state(), expected);
  EXPECT_GE((*again)->applied_offset(), last);
  auto more = create_topic((*again)->state(), {"later", 1, 1, {}}, id_of(2));
  ASSERT_TRUE((*again)->write(more.records).ok());
  EXPECT_TRUE((*again)->state().topic("later"));
}

TEST(MetadataLog, AWriteThatDoesNotApplyIsRefusedAndNotLogged) {
  TempDir dir;
  {
    auto m = MetadataLog::open(dir.path(), 1);
    ASSERT_TRUE(m.ok());
    PartitionRecord orphan;
    orphan.topic_id.bytes = id_of(9);
    orphan.partition_id = 0;
    orphan.replicas = {1};
    orphan.isr = {1};
    orphan.leader = 1;
    auto w = (*m)->write({orphan});
    EXPECT_FALSE(w.ok());
    EXPECT_EQ(w.status().code(), storage::Errc::kInvalidArgument);
    EXPECT_TRUE((*m)->state().topics().empty());
  }
  auto again = MetadataLog::open(dir.path(), 1);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->state().topics().empty());
}

// Three writes, the directory closed cleanly; returns the segment file.
std::filesystem::path three_writes(const std::filesystem::path& dir) {
  auto m = MetadataLog::open(dir, 1);
  EXPECT_TRUE(m.ok());
  EXPECT_TRUE((*m)->write(register_self(1)).ok());
  EXPECT_TRUE((*m)->write(create_topic((*m)->state(), {"kept", 1, 1, {}}, id_of(1)).records).ok());
  EXPECT_TRUE((*m)->write(create_topic((*m)->state(), {"last", 1, 1, {}}, id_of(2)).records).ok());
  EXPECT_TRUE((*m)->close().ok());
  return segment_of(dir);
}

TEST(MetadataLog, BytesDamagedAfterACleanShutdownFailOpenNamingTheOffset) {
  TempDir dir;
  auto seg = three_writes(dir.path());
  ASSERT_FALSE(seg.empty());
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    auto at = static_cast<std::streamoff>(f.tellg()) - 6;  // inside the last batch's records
    char c = 0;
    f.seekg(at);
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(at);
    f.write(&c, 1);
  }
  auto again = MetadataLog::open(dir.path(), 1);
  ASSERT_FALSE(again.ok()) << "a damaged entry was used";
  EXPECT_EQ(again.status().code(), storage::Errc::kCorruptSegment);
  EXPECT_NE(again.status().message().find("CRC mismatch"), std::string::npos) << again.status().to_string();
}

TEST(MetadataLog, ATornTailAfterACrashIsCutAndTheQuorumCarriesOn) {
  TempDir dir;
  auto seg = three_writes(dir.path());
  ASSERT_FALSE(seg.empty());
  std::filesystem::remove(dir.path() / kMetadataPartitionDir / ".clean_shutdown");  // as after a crash
  std::filesystem::resize_file(seg, std::filesystem::file_size(seg) - 6);           // the last write torn
  auto again = MetadataLog::open(dir.path(), 1);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_TRUE((*again)->state().topic("kept"));
  EXPECT_FALSE((*again)->state().topic("last")) << "a torn entry was applied";
  ASSERT_TRUE((*again)->write(create_topic((*again)->state(), {"last", 1, 1, {}}, id_of(3)).records).ok());
  EXPECT_TRUE((*again)->state().topic("last"));
}

}  // namespace
}  // namespace millrace::cluster

namespace millrace::cluster {
namespace {

// Three voters in one process: messages handed from drive() to the addressee's
// step() until nothing is left to deliver.
struct Trio {
  TempDir dirs[3];
  std::unique_ptr<MetadataLog> logs[3];
  int64_t snapshot_bytes = 20 << 20;
  // As broker/controller/controller_quorum.h does over FetchSnapshot: a
  // snapshot message for a file the addressee lacks gets the sender's file first.
  bool transfer_snapshots = true;

  void open(int i) { open_with(i, {.me = i + 1, .voters = {1, 2, 3}, .election_ticks = 10, .snapshot_bytes = snapshot_bytes}); }
  void open_with(int i, const MetadataLogOptions& o) {
    auto m = MetadataLog::open(dirs[i].path(), o);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    logs[i] = std::move(*m);
  }
  void pump(int rounds = 200) {
    for (int r = 0; r < rounds; ++r) {
      std::vector<raft::Message> out;
      for (auto& l : logs)
        if (l) {
          l->tick();
          ASSERT_TRUE(l->drive(out).ok());
        }
      for (int hop = 0; hop < 20 && !out.empty(); ++hop) {
        std::vector<raft::Message> next;
        for (const auto& m : out) {
          auto& to = logs[m.to.value() - 1];
          if (!to) continue;
          if (m.type == raft::MessageType::kSnapshot && transfer_snapshots &&
              !to->has_snapshot(m.snapshot.index.value())) {
            auto& from = logs[m.from.value() - 1];
            auto bytes = from ? from->snapshot_file(m.snapshot.index.value()) : std::nullopt;
            if (!bytes) continue;
            ASSERT_TRUE(to->store_snapshot(m.snapshot.index.value(), *bytes).ok());
          }
          to->step(m);
          ASSERT_TRUE(to->drive(next).ok());
        }
        out = std::move(next);
      }
    }
  }
  MetadataLog* leader() {
    for (auto& l : logs)
      if (l && l->is_leader()) return l.get();
    return nullptr;
  }
  // All three opened, a leader elected, and its broker registered through it (null: no leader).
  MetadataLog* start_with_registered_leader() {
    for (int i = 0; i < 3; ++i) open(i);
    pump();
    MetadataLog* l = leader();
    if (!l || !l->propose(register_self(l->me())).ok()) return nullptr;
    pump(5);
    return l;
  }
  // Through `leader`: `count` topics named prefix + 'a', 'b', ... (ids from
  // id_base), each committed and pumped `rounds` rounds.
  ::testing::AssertionResult create_topics(MetadataLog* leader, const std::string& prefix, int count, uint8_t id_base,
                                           int partitions = 2, int rounds = 3) {
    for (int n = 0; n < count; ++n) {
      std::string name = prefix;
      name.push_back(static_cast<char>('a' + n));
      auto c = create_topic(leader->state(), {name, partitions, 1, {}}, id_of(static_cast<uint8_t>(id_base + n)));
      if (!leader->propose(c.records).ok()) return ::testing::AssertionFailure() << "proposing " << name;
      pump(rounds);
    }
    return ::testing::AssertionSuccess();
  }
};

// A dynamic quorum (KIP-853): one voter formatted standalone, two nodes
// formatted without a configuration that follow as learners, promoted one at
// a time; then the leader removes itself and the other two carry on.
TEST(MetadataLog, VotersAreAddedAndRemovedOneChangeAtATime) {
  Trio t;
  t.open_with(0, {.me = 1, .voters = {1}});  // format --standalone
  for (int i = 1; i < 3; ++i) t.open_with(i, {.me = i + 1, .dynamic = true});  // --no-initial-controllers
  MetadataLog* first = t.logs[0].get();
  ASSERT_TRUE(first->is_leader());
  EXPECT_FALSE(t.logs[1]->is_voter(2));
  EXPECT_FALSE(first->add_voter(2).ok());  // not following the log yet
  ASSERT_TRUE(first->add_observers({2, 3}).ok());
  t.pump(20);
  ASSERT_TRUE(first->config_settled());
  ASSERT_TRUE(first->add_voter(2).ok());
  EXPECT_FALSE(first->config_settled());
  EXPECT_FALSE(first->add_voter(3).ok());  // one change at a time
  t.pump(20);
  EXPECT_TRUE(first->config_settled());
  EXPECT_FALSE(first->add_voter(2).ok());  // already a voter
  ASSERT_TRUE(first->add_voter(3).ok());
  t.pump(20);
  for (auto& l : t.logs) EXPECT_EQ(l->voters(), (std::vector<int32_t>{1, 2, 3})) << "node " << l->me();
  EXPECT_FALSE(first->remove_voter(7).ok());  // not a voter
  ASSERT_TRUE(first->remove_voter(1).ok());
  t.pump(200);
  MetadataLog* leader = t.leader();
  ASSERT_NE(leader, nullptr);
  EXPECT_NE(leader->me(), 1);  // the removed leader stepped down
  EXPECT_TRUE(leader->config_settled());
  for (auto& l : t.logs) EXPECT_EQ(l->voters(), (std::vector<int32_t>{2, 3})) << "node " << l->me();
  // The two left commit without node 1.
  t.logs[0].reset();
  ASSERT_TRUE(leader->propose(register_self(leader->me())).ok());
  t.pump(5);
  EXPECT_TRUE(leader->state().brokers().count(leader->me()));
  EXPECT_EQ(t.logs[1]->state(), t.logs[2]->state());
}

TEST(MetadataLog, ThreeVotersElectOneLeaderAndApplyTheSameState) {
  Trio t;
  for (int i = 0; i < 3; ++i) t.open(i);
  t.pump();
  MetadataLog* leader = t.leader();
  ASSERT_NE(leader, nullptr);
  auto p = leader->propose(register_self(leader->me()));
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  t.pump(5);
  ASSERT_TRUE(leader->propose(create_topic(leader->state(), {"orders", 3, 1, {}}, id_of(2)).records).ok());
  t.pump(5);
  for (auto& l : t.logs) {
    EXPECT_EQ(l->state(), leader->state());
    EXPECT_TRUE(l->state().topic("orders"));
  }
  // A follower cannot propose.
  for (auto& l : t.logs) {
    if (l.get() != leader) {
      EXPECT_FALSE(l->propose(register_self(9)).ok());
    }
  }
}

TEST(MetadataLog, AVoterWithDamagedBytesCutsThemAndTakesThemFromTheLeader) {
  Trio t;
  MetadataLog* leader = t.start_with_registered_leader();
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(t.create_topics(leader, "t", 5, 10, 2, 3));
  int victim = t.logs[0].get() == leader ? 1 : 0;
  MetadataState expected = leader->state();
  ASSERT_TRUE(t.logs[victim]->close().ok());
  t.logs[victim].reset();
  auto seg = segment_of(t.dirs[victim].path());
  auto size = std::filesystem::file_size(seg);
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    const char junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    f.write(junk, sizeof junk);
  }
  const int64_t end_before = leader->status().log_end_offset;
  t.open(victim);
  // Found at open (by the metadata log's CRC scan, or cut by the storage
  // log's recovery when the bytes made a batch unreadable): never applied.
  EXPECT_TRUE(t.logs[victim]->repaired_from() >= 0 || t.logs[victim]->status().log_end_offset < end_before);
  EXPECT_NE(t.logs[victim]->state(), expected);
  // It had acknowledged entries it no longer has: no vote from it until it
  // has them again (kept on disk, so a second restart does not forget).
  EXPECT_GE(t.logs[victim]->vote_hold(), t.logs[victim]->status().log_end_offset);
  EXPECT_TRUE(std::filesystem::exists(t.dirs[victim].path() / kMetadataPartitionDir / "vote.hold"));
  // The next write (a restarted broker's registration, in the broker) makes
  // the leader find the gap and send the rest again.
  ASSERT_TRUE(leader->propose(register_self(7)).ok());
  expected.apply(register_self(7)[0]);
  t.pump(20);
  EXPECT_EQ(t.logs[victim]->state(), expected) << "and refilled from the leader";
  EXPECT_EQ(t.logs[victim]->vote_hold(), -1) << "caught up: it votes again";
  EXPECT_FALSE(std::filesystem::exists(t.dirs[victim].path() / kMetadataPartitionDir / "vote.hold"));
}

}  // namespace
}  // namespace millrace::cluster

namespace millrace::cluster {
namespace {

TEST(MetadataLog, TheLogIsCutBelowSnapshotsAndAVoterBehindItGetsTheSnapshot) {
  Trio t;
  t.snapshot_bytes = 1;  // a snapshot after every entry
  for (int i = 0; i < 3; ++i) t.open(i);
  t.pump();
  MetadataLog* leader = t.leader();
  ASSERT_NE(leader, nullptr);
  int away = leader->me() == 3 ? 0 : 2;  // a follower that misses everything below
  ASSERT_TRUE(t.logs[away]->close().ok());
  t.logs[away].reset();
  ASSERT_TRUE(leader->propose(register_self(leader->me())).ok());
  t.pump(5);
  ASSERT_TRUE(t.create_topics(leader, "cut", 6, 60, 2, 5));
  EXPECT_GT(leader->log_start(), 4) << "the leader's log was cut below its older snapshot";
  t.open(away);
  t.pump(40);
  EXPECT_EQ(t.logs[away]->snapshots_installed(), 1);
  EXPECT_EQ(t.logs[away]->state(), leader->state());
  EXPECT_GT(t.logs[away]->log_start(), 0);
  // Restarted, it rebuilds the same state from its own snapshot and log.
  auto expected = leader->state();
  ASSERT_TRUE(t.logs[away]->close().ok());
  t.open(away);
  EXPECT_EQ(t.logs[away]->state(), expected);
}

TEST(MetadataLog, ARestartThatSnapshotsWhileReplayingCutsTheLogBelowTheRestoredCommit) {
  // A follower restarted with a smaller snapshot interval takes a snapshot
  // while it replays at open, before Raft reports any commit: the cut below
  // the older snapshot must see the restored commit as the high watermark
  // (it once failed the start: "delete before N above high watermark 0").
  Trio t;
  t.snapshot_bytes = 400;
  MetadataLog* leader = t.start_with_registered_leader();
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(t.create_topics(leader, "re", 8, 90, 2, 3));
  // A small record after the last snapshot: the restart replays it.
  ASSERT_TRUE(leader->propose(register_self(42)).ok());
  t.pump(3);
  const int f = leader->me() == 3 ? 0 : 2;
  ASSERT_GT(t.logs[f]->applied_offset(), t.logs[f]->snapshot_offset());
  const auto expected = leader->state();
  ASSERT_TRUE(t.logs[f]->close().ok());
  t.logs[f].reset();
  // As after kill -9 before the storage log's checkpoint was written: the
  // high watermark on disk is not the commit.
  std::filesystem::remove(t.dirs[f].path() / kMetadataPartitionDir / "partition.checkpoint");
  t.snapshot_bytes = 1;
  t.open(f);
  ASSERT_TRUE(t.logs[f]);
  EXPECT_EQ(t.logs[f]->state(), expected);
  EXPECT_GT(t.logs[f]->log_start(), 0) << "cut below its older snapshot at open";
}

TEST(MetadataLog, ASnapshotMessageWithoutItsFileStopsTheReplicaRatherThanGuessing) {
  Trio t;
  t.snapshot_bytes = 1;
  t.transfer_snapshots = false;
  for (int i = 0; i < 3; ++i) t.open(i);
  t.pump();
  MetadataLog* leader = t.leader();
  ASSERT_NE(leader, nullptr);
  const int away = leader->me() == 3 ? 0 : 2;
  t.logs[away].reset();
  ASSERT_TRUE(leader->propose(register_self(leader->me())).ok());
  t.pump(5);
  ASSERT_TRUE(t.create_topics(leader, "nf", 4, 80, 1, 5));
  t.open(away);
  // Deliver by hand until the leader sends the snapshot message.
  bool refused = false;
  for (int r = 0; r < 40 && !refused; ++r) {
    std::vector<raft::Message> out;
    leader->tick();
    ASSERT_TRUE(leader->drive(out).ok());
    for (const auto& m : out) {
      if (m.to.value() != away + 1) continue;
      t.logs[away]->step(m);
      std::vector<raft::Message> back;
      auto st = t.logs[away]->drive(back);
      if (m.type == raft::MessageType::kSnapshot) {
        EXPECT_EQ(st.code(), storage::Errc::kCorruptSegment) << st.to_string();
        refused = true;
        break;
      }
      for (const auto& b : back) leader->step(b);
    }
  }
  EXPECT_TRUE(refused);
}

TEST(MetadataLog, ARestartLoadsTheNewestSnapshotAndReplaysTheRest) {
  TempDir dir;
  MetadataState expected;
  {
    auto m = MetadataLog::open(dir.path(), {.me = 1, .voters = {}, .election_ticks = 10, .snapshot_bytes = 1});
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    ASSERT_TRUE((*m)->write(register_self(1)).ok());
    for (uint8_t n = 0; n < 6; ++n) {
      std::string name = "s";
      name.push_back(static_cast<char>('a' + n));
      ASSERT_TRUE((*m)->write(create_topic((*m)->state(), {name, 2, 1, {}}, id_of(static_cast<uint8_t>(40 + n))).records).ok());
    }
    EXPECT_GE((*m)->snapshot_offset(), 4) << "snapshots were written";
    expected = (*m)->state();
    ASSERT_TRUE((*m)->close().ok());
  }
  int64_t newest = -1;
  {
    auto m = MetadataLog::open(dir.path(), {.me = 1, .voters = {}, .election_ticks = 10, .snapshot_bytes = 1});
    ASSERT_TRUE(m.ok());
    newest = (*m)->snapshot_offset();
    EXPECT_GE(newest, 4) << "loaded at open";
    EXPECT_EQ((*m)->state(), expected) << "snapshot + the rest of the log = the whole log";
    ASSERT_TRUE((*m)->close().ok());
  }
  // A damaged newest snapshot is skipped, said, and the state is the same.
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / kMetadataPartitionDir)) {
    if (e.path().extension() != ".metadata-snapshot") continue;
    if (std::stoll(e.path().filename().string().substr(0, 20)) != newest) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('\x7f');
  }
  {
    auto m = MetadataLog::open(dir.path(), {.me = 1, .voters = {}, .election_ticks = 10, .snapshot_bytes = 1});
    ASSERT_TRUE(m.ok());
    EXPECT_EQ((*m)->skipped_snapshots.size(), 1u);
    EXPECT_EQ((*m)->state(), expected);
    EXPECT_GT((*m)->log_start(), 0) << "the log was cut below the older snapshot";
  }
  // Both damaged: what was cut cannot be rebuilt, and a one-voter quorum has
  // no other copy: open fails saying so, never an image from half a log.
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / kMetadataPartitionDir)) {
    if (e.path().extension() != ".metadata-snapshot") continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('\x7e');
  }
  auto m = MetadataLog::open(dir.path(), {.me = 1, .voters = {}, .election_ticks = 10, .snapshot_bytes = 1});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().to_string().find("no readable snapshot covers"), std::string::npos) << m.status().to_string();
}

}  // namespace
}  // namespace millrace::cluster
