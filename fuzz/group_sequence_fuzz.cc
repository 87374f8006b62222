// Sequence fuzzer of the group coordinator (REVIEW.md C1/T4): the input is a
// program of group requests (JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups,
// OffsetDelete), clock advances with tick(), store failures and broker
// restarts (replay of the in-memory __consumer_offsets into a new
// coordinator), store writes held and completed later (the coordinator's
// Ready-style persistence) and offsets partitions unloaded and loaded again. Groups, member ids, instance ids, generations and protocols
// are drawn from small pools so that requests collide: member ids are those
// the coordinator handed out, plus "" and an unknown one.
//
// After every step it checks GroupCoordinator::check_invariants() and what
// the answers say: a callback runs at most once; all successful JoinGroup
// answers of one generation name the same leader and protocol, and the
// leader's member list holds every member answered in that generation.
//
// Input layout: a sequence of ops; each op is one byte (op % kOps) followed
// by its argument bytes (a missing byte reads as 0). The seed
// corpus/group_sequence_fuzz/c1_static_member_crash is the REVIEW.md C1
// crash: JoinGroup (MEMBER_ID_REQUIRED), JoinGroup with that id, Heartbeat
// with an unknown instance id "x", JoinGroup("", "x").
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "coordination/group_coordinator.h"
#include "coordination/group_store.h"
#include "coordination/offsets_format.h"
#include "coordination/testing/memory_store.h"

namespace {

using namespace millrace::coordination;

class Input {
 public:
  explicit Input(std::span<const uint8_t> data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  uint8_t byte() { return pos_ < data_.size() ? data_[pos_++] : 0; }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

[[noreturn]] void violated(const std::string& what) {
  std::fprintf(stderr, "group_sequence_fuzz: invariant violated: %s\n", what.c_str());
  std::abort();
}

CoordinatorOptions options() {
  CoordinatorOptions o;
  o.initial_rebalance_delay_ms = 100;
  o.min_session_timeout_ms = 1000;
  o.max_session_timeout_ms = 30000;
  o.max_group_size = 3;
  o.offsets_retention_ms = 20000;
  o.offsets_retention_check_interval_ms = 1000;
  o.offset_metadata_max_bytes = 4;
  o.offsets_partitions = 2;
  return o;
}

// A ConsumerProtocolSubscription v0 of topic "t" (so retention sees a subscription).
std::vector<uint8_t> subscription_t() { return {0, 0, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff}; }

struct Generation {
  std::string leader;
  std::string protocol;
  std::set<std::string> answered;  // members answered successfully
  std::optional<std::set<std::string>> leader_view;  // the leader's member list
};

class Harness {
 public:
  Harness() : coord_(std::make_unique<GroupCoordinator>(options(), &store_)) {}

  void run(Input& in) {
    int steps = 0;
    while (!in.done() && steps++ < 400) {
      step(in);
      check();
    }
  }

 private:
  static constexpr int kOps = 17;

  std::string group(Input& in) {
    static const char* kGroups[] = {"g", "h", ""};
    return kGroups[in.byte() % 3];
  }
  std::string member(Input& in) {
    size_t i = in.byte() % (members_.size() + 2);
    if (i < members_.size()) return members_[i];
    return i == members_.size() ? std::string() : std::string("unknown-member");
  }
  std::optional<std::string> instance(Input& in) {
    switch (in.byte() % 3) {
      case 1: return std::string("x");
      case 2: return std::string("y");
      default: return std::nullopt;
    }
  }
  int32_t generation(Input& in, const std::string& g) {
    int32_t last = last_gen_.count(g) ? last_gen_[g] : 0;
    switch (in.byte() % 5) {
      case 0: return last;
      case 1: return -1;
      case 2: return last + 1;
      case 3: return last - 1;
      default: return 0;
    }
  }
  void remember(const std::string& id) {
    if (id.empty()) return;
    for (const auto& m : members_)
      if (m == id) return;
    members_.push_back(id);
    if (members_.size() > 8) members_.erase(members_.begin());
  }
  // Wraps a callback so that a second invocation is caught.
  template <typename Result>
  std::function<void(Result)> once(std::function<void(Result)> f) {
    auto calls = std::make_shared<int>(0);
    return [calls, f = std::move(f)](Result r) {
      if (++*calls > 1) violated("a callback ran twice");
      f(std::move(r));
    };
  }
  // `takeover`: a static member joining without a member id, which may take
  // over its instance's member inside the current generation (KIP-345): it
  // is then answered that generation under its new id, and if the old id led,
  // the leadership moves with it.
  JoinCallback on_join(const std::string& g, bool takeover) {
    return once<JoinResult>([this, g, takeover](JoinResult r) {
      remember(r.member_id);
      if (r.error != err::kNone) return;
      last_gen_[g] = r.generation_id;
      auto& gen = generations_[{g, r.generation_id}];
      bool first = gen.answered.empty() && !gen.leader_view;
      if (!first && takeover && gen.protocol == r.protocol_name) {
        if (gen.leader != r.leader && r.leader != r.member_id)
          violated("a static takeover changed the leader to another member");
        gen.leader = r.leader;
        if (gen.leader_view) gen.leader_view->insert(r.member_id);
      }
      if (first) {
        gen.leader = r.leader;
        gen.protocol = r.protocol_name;
      } else if (gen.leader != r.leader || gen.protocol != r.protocol_name) {
        violated("generation " + std::to_string(r.generation_id) + " of '" + g + "' has two leaders or protocols");
      }
      gen.answered.insert(r.member_id);
      if (r.member_id == r.leader) {
        std::set<std::string> view;
        for (const auto& m : r.members) view.insert(m.member_id);
        if (!view.count(r.leader)) violated("the leader is not in its own member list");
        // A static takeover of the leader: the replaced id is no member any more.
        if (takeover)
          for (auto it = gen.answered.begin(); it != gen.answered.end();)
            it = view.count(*it) ? std::next(it) : gen.answered.erase(it);
        gen.leader_view = std::move(view);
      } else if (!r.members.empty()) {
        violated("a follower got the member list");
      }
      if (gen.leader_view)
        for (const auto& m : gen.answered)
          if (!gen.leader_view->count(m)) violated("member " + m + " answered but not in the leader's list");
    });
  }

  void step(Input& in) {
    int64_t t = now_;
    switch (in.byte() % kOps) {
      case 0: {
        JoinRequest r;
        r.group_id = group(in);
        r.member_id = member(in);
        r.group_instance_id = instance(in);
        r.client_id = "c";
        r.protocol_type = "consumer";
        switch (in.byte() % 5) {
          case 0: r.protocols = {{"range", {'m'}}}; break;
          case 1: r.protocols = {{"range", subscription_t()}}; break;
          case 2: r.protocols = {{"rr", {}}}; break;
          case 3: r.protocols = {{"range", {'m'}}, {"rr", {}}}; break;
          default: r.protocol_type = "other"; r.protocols = {{"range", {}}}; break;
        }
        static const int32_t kSessions[] = {10000, 1000, 5};
        r.session_timeout_ms = kSessions[in.byte() % 3];
        r.rebalance_timeout_ms = 3000;
        r.require_known_member_id = in.byte() % 2;
        coord_->join(r, t, on_join(r.group_id, r.member_id.empty() && r.group_instance_id));
        break;
      }
      case 1: {
        SyncRequest r;
        r.group_id = group(in);
        r.member_id = member(in);
        r.group_instance_id = instance(in);
        r.generation_id = generation(in, r.group_id);
        uint8_t assign = in.byte();
        for (size_t i = 0; i < members_.size(); ++i)
          if (assign & (1u << i)) r.assignments.push_back({members_[i], {static_cast<uint8_t>(i)}});
        coord_->sync(r, t, once<SyncResult>([](SyncResult) {}));
        break;
      }
      case 2: {
        std::string g = group(in);
        std::string m = member(in);
        auto i = instance(in);
        coord_->heartbeat(g, m, generation(in, g), i, t);
        break;
      }
      case 3: {
        std::string g = group(in);
        std::vector<LeaveMember> leaving;
        int n = 1 + in.byte() % 2;
        for (int k = 0; k < n; ++k) {
          std::string m = member(in);
          leaving.push_back({m, instance(in)});
        }
        auto errors = coord_->leave(g, leaving, t);
        if (errors.size() != leaving.size() + 1) violated("leave answered the wrong number of members");
        break;
      }
      case 4: {
        std::string g = group(in);
        std::string m = member(in);
        auto i = instance(in);
        int32_t gen = generation(in, g);
        std::vector<OffsetCommitEntry> offsets;
        int n = 1 + in.byte() % 2;
        for (int k = 0; k < n; ++k) {
          uint8_t b = in.byte();
          OffsetCommitEntry e;
          e.topic = b & 1 ? "t" : "u";
          e.partition = (b >> 1) & 1;
          e.offset = b;
          if (b & 4) e.metadata = b & 8 ? "too long" : "ok";
          offsets.push_back(std::move(e));
        }
        auto answered = std::make_shared<int>(0);
        coord_->commit_offsets(g, m, gen, i, offsets, t, [answered, n = offsets.size()](std::vector<int16_t> errors) {
          if (++*answered > 1) violated("a commit answered twice");
          if (errors.size() != n) violated("commit answered the wrong number of partitions");
        });
        break;
      }
      case 5: {
        std::string g = group(in);
        (void)coord_->fetch_offset(g, in.byte() % 2 ? "t" : "u", 0);
        (void)coord_->fetch_all_offsets(g);
        break;
      }
      case 6: {
        auto d = coord_->describe(group(in));
        std::set<std::string> ids;
        for (const auto& m : d.members)
          if (!ids.insert(m.member_id).second) violated("describe lists a member twice");
        break;
      }
      case 7: (void)coord_->list({}); break;
      case 8: {
        std::string g = group(in);
        auto answered = std::make_shared<int>(0);
        coord_->delete_group(g, [this, g, answered](int16_t e) {
          if (++*answered > 1) violated("a DeleteGroups answered twice");
          if (e == err::kNone) forget(g);
        });
        break;
      }
      case 9: {
        std::string g = group(in);
        auto answered = std::make_shared<int>(0);
        coord_->delete_offsets(g, {{in.byte() % 2 ? "t" : "u", 0}}, [answered](int16_t, std::vector<int16_t> per) {
          if (++*answered > 1) violated("an OffsetDelete answered twice");
          if (per.size() != 1) violated("OffsetDelete answered the wrong number of partitions");
        });
        break;
      }
      case 10: {
        static const int64_t kAdvance[] = {0, 50, 150, 1000, 3001, 10001, 30000, 600000};
        now_ += kAdvance[in.byte() % 8];
        coord_->tick(now_);
        break;
      }
      case 11: store_.fail = !store_.fail; break;
      case 13: {
        // Writes held in the store (stored later, or refused): requests wait
        // for them; turning it off completes every held write, in order.
        store_.hold = !store_.hold;
        if (!store_.hold) store_.release_all();
        break;
      }
      case 14: store_.release(); break;
      case 15: {
        // Leadership of an offsets partition moves away and back: unload,
        // then load it again from what the store holds.
        int32_t p = in.byte() % options().offsets_partitions;
        coord_->unload(p);
        if (in.byte() % 4 == 0) break;  // stays away for a while
        coord_->begin_load(p);
        for (const auto& r : store_.log) {
          auto k = decode_key(r.key);
          const std::string* g = std::holds_alternative<OffsetKey>(k)  ? &std::get<OffsetKey>(k).group
                                 : std::holds_alternative<GroupKey>(k) ? &std::get<GroupKey>(k).group
                                                                       : nullptr;
          if (!g || coord_->partition_for(*g) != p) continue;
          std::optional<std::span<const uint8_t>> v;
          if (r.value) v = std::span<const uint8_t>(*r.value);
          coord_->replay(r.key, v);
        }
        coord_->finish_load(p, now_);
        generations_.clear();  // as after a restart
        break;
      }
      case 12: {
        // A broker restart: the new coordinator knows only what was stored;
        // callbacks still waiting in the old one are never answered.
        auto fresh = std::make_unique<GroupCoordinator>(options(), &store_);
        for (const auto& r : store_.log) {
          std::optional<std::span<const uint8_t>> v;
          if (r.value) v = std::span<const uint8_t>(*r.value);
          fresh->replay(r.key, v);
        }
        fresh->finish_replay(now_);
        retired_.push_back(std::move(coord_));
        coord_ = std::move(fresh);
        // A generation completed but never synced is not stored; after the
        // restart the same number may be completed again with another leader.
        generations_.clear();
        break;
      }
      default: {
        // Every member handed out, one heartbeat each (keeps sessions alive).
        for (const auto& m : members_) coord_->heartbeat("g", m, last_gen_["g"], std::nullopt, t);
        break;
      }
    }
  }

  void forget(const std::string& g) {
    for (auto it = generations_.begin(); it != generations_.end();)
      it = it->first.first == g ? generations_.erase(it) : std::next(it);
    last_gen_.erase(g);
  }

  void check() {
    if (auto bad = coord_->check_invariants(); !bad.empty()) violated(bad);
    // A group that is gone (deleted, expired) starts again at generation 0.
    for (const char* g : {"g", "h"})
      if (coord_->describe(g).state == "Dead") forget(g);
  }

  MemoryStore store_;
  std::unique_ptr<GroupCoordinator> coord_;
  std::vector<std::unique_ptr<GroupCoordinator>> retired_;
  int64_t now_ = 1000000;
  std::vector<std::string> members_;
  std::map<std::string, int32_t> last_gen_;
  std::map<std::pair<std::string, int32_t>, Generation> generations_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(std::span<const uint8_t>(data, size));
  Harness h;
  h.run(in);
  return 0;
}
