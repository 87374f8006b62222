#include "broker/metrics/scrape_providers.h"

#include <sys/statvfs.h>

#include <map>

namespace millrace::broker {

void register_scrape_providers(BrokerState& b) {
  b.metrics.add_provider([&b](std::vector<prometheus::MetricFamily>& out) {
    auto leo = gauge_family("millrace_partition_log_end_offset", "Next offset to be written, per partition");
    auto hw = gauge_family("millrace_partition_high_watermark", "Offset up to which consumers may read");
    auto lso = gauge_family("millrace_partition_log_start_offset", "First offset still in the log");
    auto size = gauge_family("millrace_partition_size_bytes", "Bytes of the partition's segments");
    auto used = gauge_family("millrace_log_dir_used_bytes", "Bytes of partition data in each log dir");
    auto free_b = gauge_family("millrace_log_dir_free_bytes", "Free bytes of the filesystem of each log dir");
    auto cap = gauge_family("millrace_log_dir_capacity_bytes", "Size of the filesystem of each log dir");
    auto states = gauge_family("millrace_partitions", "Partitions of this broker by state");
    auto dir_offline = gauge_family("millrace_log_dir_offline",
                                    "1 when the log dir is offline after a failed write or fsync (fail-stop)");
    auto lag = gauge_family("millrace_consumer_group_lag", "End of data (the high watermark, Raft's entries after the last record not counted) minus committed offset");
    auto members = gauge_family("millrace_consumer_group_members", "Members of each consumer group");

    std::map<std::string, double> dir_used;
    for (const auto& d : b.logs.log_dirs()) dir_used[d.string()] = 0;
    std::map<std::pair<std::string, int32_t>, int64_t> hws;
    auto parts = b.logs.partitions();
    for (const auto& p : parts) {
      std::vector<std::pair<std::string, std::string>> l = {{"topic", p.tp.topic},
                                                            {"partition", std::to_string(p.tp.partition)}};
      add_gauge(leo, l, static_cast<double>(p.log_end_offset.value()));
      add_gauge(hw, l, static_cast<double>(p.high_watermark.value()));
      add_gauge(lso, l, static_cast<double>(p.log_start_offset.value()));
      add_gauge(size, l, static_cast<double>(p.size_bytes));
      dir_used[p.log_dir.string()] += static_cast<double>(p.size_bytes);
      hws[{p.tp.topic, p.tp.partition}] = p.consumer_end.value();  // the lag a consumer sees
    }
    for (const auto& [dir, bytes] : dir_used) {
      add_gauge(used, {{"dir", dir}}, bytes);
      struct statvfs st {};
      if (::statvfs(dir.c_str(), &st) == 0) {
        add_gauge(free_b, {{"dir", dir}}, static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize));
        add_gauge(cap, {{"dir", dir}}, static_cast<double>(st.f_blocks) * static_cast<double>(st.f_frsize));
      }
    }
    double offline = 0;
    for (const auto& p : parts) offline += p.offline ? 1 : 0;
    add_gauge(states, {{"state", "online"}}, static_cast<double>(parts.size()) - offline);
    add_gauge(states, {{"state", "offline"}}, offline);
    for (const auto& d : b.logs.log_dir_status()) add_gauge(dir_offline, {{"dir", d.dir.string()}}, d.offline ? 1 : 0);
    add_gauge(states, {{"state", "under_replicated"}}, 0);
    for (const auto& [group, offsets] : b.groups.all_offsets())
      for (const auto& [tp, committed] : offsets) {
        auto it = hws.find(tp);
        if (it == hws.end()) continue;
        add_gauge(lag, {{"group", group}, {"topic", tp.first}, {"partition", std::to_string(tp.second)}},
                  static_cast<double>(std::max<int64_t>(0, it->second - committed)));
      }
    for (const auto& [group, n] : b.groups.member_counts()) add_gauge(members, {{"group", group}}, n);
    for (auto* f : {&leo, &hw, &lso, &size, &used, &free_b, &cap, &states, &dir_offline, &lag, &members})
      out.push_back(std::move(*f));
  });
  // Fetch sessions (KIP-227), from the FetchSessionCache's own counts.
  b.metrics.add_provider([&b](std::vector<prometheus::MetricFamily>& out) {
    auto s = b.fetch_sessions.stats();
    auto counter = [&out](std::string name, std::string help, double v) {
      prometheus::MetricFamily f;
      f.name = std::move(name);
      f.help = std::move(help);
      f.type = prometheus::MetricType::Counter;
      prometheus::ClientMetric m;
      m.counter.value = v;
      f.metric.push_back(std::move(m));
      out.push_back(std::move(f));
    };
    auto sessions = gauge_family("millrace_fetch_sessions", "Incremental fetch sessions in the cache");
    add_gauge(sessions, {}, static_cast<double>(s.sessions));
    out.push_back(std::move(sessions));
    auto parts = gauge_family("millrace_fetch_session_partitions", "Partitions held by all fetch sessions");
    add_gauge(parts, {}, static_cast<double>(s.partitions));
    out.push_back(std::move(parts));
    counter("millrace_fetch_sessions_created_total", "Fetch sessions opened", static_cast<double>(s.created));
    counter("millrace_fetch_session_evictions_total", "Fetch sessions evicted to make room for new ones",
            static_cast<double>(s.evictions));
    counter("millrace_fetch_incremental_requests_total", "Fetch requests served incrementally in a session",
            static_cast<double>(s.incremental_fetches));
    counter("millrace_fetch_sessions_declined_total", "Full fetches that found no room for a new session",
            static_cast<double>(s.full_fetches_declined));
  });
}

}  // namespace millrace::broker
