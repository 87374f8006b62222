// millrace group list|describe|lag|reset-offsets|delete
#include <iomanip>
#include <iostream>

#include "client/admin.h"
#include "client/cli/common.h"

namespace millrace::cli {

void add_group_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  auto* group = app.add_subcommand("group", "consumer groups: list, describe, lag, reset offsets, delete");
  group->require_subcommand(1);

  auto* list = group->add_subcommand("list", "list groups");
  list->callback([&g, &rc] {
    client::Admin admin(g.client());
    auto r = admin.list_groups();
    if (!r.ok()) { rc = report("list groups", r.error()); return; }
    for (auto& l : *r) std::cout << l.group_id << "\t" << (l.state.empty() ? "-" : l.state) << "\t" << l.protocol_type << "\n";
  });

  auto dname = std::make_shared<std::string>();
  auto* describe = group->add_subcommand("describe", "state, members and their partitions");
  describe->add_option("group", *dname, "group id")->required();
  describe->callback([&g, &rc, dname] {
    client::Admin admin(g.client());
    auto d = admin.describe_group(*dname);
    if (!d.ok()) { rc = report("describe group '" + *dname + "'", d.error()); return; }
    if (d->state == "Dead") { rc = report("describe group '" + *dname + "'", client::Error{client::errc::kGroupIdNotFound, "group '" + *dname + "' does not exist"}); return; }
    std::cout << "Group: " << d->group_id << "\tState: " << d->state << "\tProtocol: " << d->protocol << "\n";
    for (auto& m : d->members) {
      std::cout << "\tMember: " << m.member_id << "\tClient: " << m.client_id << "\tHost: " << m.host << "\tPartitions:";
      for (auto& tp : m.assignment) std::cout << " " << tp.topic << "-" << tp.partition;
      std::cout << "\n";
    }
  });

  auto lname = std::make_shared<std::string>();
  auto* lag = group->add_subcommand("lag", "committed offset, log end offset and lag per partition");
  lag->add_option("group", *lname, "group id")->required();
  lag->callback([&g, &rc, lname] {
    client::Admin admin(g.client());
    auto r = admin.group_lag(*lname);
    if (!r.ok()) { rc = report("lag of group '" + *lname + "'", r.error()); return; }
    int64_t total = 0;
    std::cout << "TOPIC\tPARTITION\tCURRENT-OFFSET\tLOG-END-OFFSET\tLAG\n";
    for (auto& l : *r) {
      std::cout << l.tp.topic << "\t" << l.tp.partition << "\t" << l.committed << "\t" << l.log_end << "\t" << l.lag << "\n";
      total += l.lag;
    }
    std::cout << "TOTAL-LAG\t" << total << "\n";
  });

  struct ResetOpts { std::string group, topic; bool earliest = false, latest = false, execute = false; int64_t to_offset = -1, to_time = -1, shift = 0; bool has_shift = false; };
  auto ro = std::make_shared<ResetOpts>();
  auto* reset = group->add_subcommand("reset-offsets", "move a group's committed offsets (the group must have no active members)");
  reset->add_option("group", ro->group, "group id")->required();
  reset->add_option("-t,--topic", ro->topic, "topic whose partitions to reset")->required();
  auto* e = reset->add_flag("--to-earliest", ro->earliest, "to the log start");
  auto* l = reset->add_flag("--to-latest", ro->latest, "to the log end");
  auto* off = reset->add_option("--to-offset", ro->to_offset, "to this offset");
  auto* tm = reset->add_option("--to-datetime", ro->to_time, "to the first offset with timestamp >= this (ms since epoch)");
  auto* sh = reset->add_option("--shift-by", ro->shift, "move committed offsets by N (negative: back)");
  e->excludes(l, off, tm, sh);
  l->excludes(off, tm, sh);
  off->excludes(tm, sh);
  tm->excludes(sh);
  reset->add_flag("--execute", ro->execute, "apply (without it: print the plan only)");
  reset->callback([&g, &rc, ro, sh] {
    ro->has_shift = sh->count() > 0;
    if (!ro->earliest && !ro->latest && ro->to_offset < 0 && ro->to_time < 0 && !ro->has_shift) {
      std::cerr << "error: choose one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by\n";
      rc = kExitUsage;
      return;
    }
    client::Admin admin(g.client());
    auto d = admin.describe_topic(ro->topic);
    if (!d.ok()) { rc = report("reset offsets", d.error()); return; }
    std::vector<client::TopicPartition> tps;
    for (auto& p : d->partitions) tps.push_back({ro->topic, p.partition});
    auto earliest = admin.list_offsets(tps, client::OffsetSpec::kEarliest);
    auto latest = admin.list_offsets(tps, client::OffsetSpec::kLatest);
    if (!earliest.ok()) { rc = report("reset offsets", earliest.error()); return; }
    if (!latest.ok()) { rc = report("reset offsets", latest.error()); return; }
    std::map<client::TopicPartition, int64_t> target;
    if (ro->earliest) target = *earliest;
    else if (ro->latest) target = *latest;
    else if (ro->to_offset >= 0) for (auto& tp : tps) target[tp] = ro->to_offset;
    else if (ro->to_time >= 0) {
      auto r = admin.list_offsets(tps, ro->to_time);
      if (!r.ok()) { rc = report("reset offsets", r.error()); return; }
      for (auto& [tp, o] : *r) target[tp] = o >= 0 ? o : latest->at(tp);
    } else {
      auto cur = admin.group_offsets(ro->group);
      if (!cur.ok()) { rc = report("reset offsets", cur.error()); return; }
      for (auto& tp : tps) target[tp] = (cur->count(tp) ? cur->at(tp) : latest->at(tp)) + ro->shift;
    }
    // Clamp into [log start, log end] as kafka-consumer-groups.sh does.
    for (auto& [tp, o] : target) o = std::clamp(o, earliest->at(tp), latest->at(tp));
    std::cout << "TOPIC\tPARTITION\tNEW-OFFSET\n";
    for (auto& [tp, o] : target) std::cout << tp.topic << "\t" << tp.partition << "\t" << o << "\n";
    if (!ro->execute) { std::cerr << "dry run: add --execute to apply\n"; return; }
    auto st = admin.reset_group_offsets(ro->group, target);
    if (!st.ok()) { rc = report("reset offsets of group '" + ro->group + "'", st); return; }
    std::cerr << "offsets of group " << ro->group << " reset\n";
  });

  auto del = std::make_shared<std::string>();
  auto* remove = group->add_subcommand("delete", "delete an empty group and its committed offsets");
  remove->add_option("group", *del, "group id")->required();
  remove->callback([&g, &rc, del] {
    client::Admin admin(g.client());
    auto st = admin.delete_group(*del);
    if (!st.ok()) { rc = report("delete group '" + *del + "'", st); return; }
    std::cout << "deleted group " << *del << "\n";
  });
}

}  // namespace millrace::cli
