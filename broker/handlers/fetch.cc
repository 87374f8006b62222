// Fetch (key 1), v4-12. Long poll: when fewer than min_bytes are ready the
// request parks on the AppendNotifier until data arrives or max_wait_ms
// passes. Record bytes are not copied: each partition's FileRegion becomes a
// splice the connection sends with sendfile(). Fetch sessions (v7+): the
// broker creates none (session_id 0 in every reply, which KIP-227 clients
// treat as "sessionless": they keep sending full fetches); a request that
// names a session id gets FETCH_SESSION_ID_NOT_FOUND so the client resets.
#include <chrono>

#include "broker/handlers/errors.h"
#include "broker/handlers/handlers.h"

namespace millrace::broker {

namespace {

struct Built {
  proto::FetchResponse resp;
  int64_t bytes = 0;
  bool error = false;
  std::vector<std::shared_ptr<const void>> keep_alive;
  std::vector<std::tuple<std::string, int64_t, int64_t>> out;  // topic, bytes, records
};

Built build(RequestContext& ctx, const proto::FetchRequest& req) {
  Built r;
  auto& b = ctx.broker;
  int64_t budget = req.max_bytes > 0 ? req.max_bytes : INT32_MAX;
  for (const auto& ft : req.topics) {
    auto& rt = r.resp.responses.emplace_back();
    rt.topic = ft.topic;
    for (const auto& fp : ft.partitions) {
      auto& pd = rt.partitions.emplace_back();
      pd.partition_index = fp.partition;
      pd.records.is_null = false;
      pd.aborted_transactions = std::nullopt;
      auto log = b.logs.get({ft.topic, fp.partition});
      if (!log) {
        pd.error_code = proto::code(proto::ErrorCode::kUnknownTopicOrPartition);
        pd.high_watermark = -1;
        r.error = true;
        continue;
      }
      Offset hw = log->high_watermark();
      pd.high_watermark = hw.value();
      pd.last_stable_offset = hw.value();
      pd.log_start_offset = log->log_start_offset().value();
      if (budget <= 0 && r.bytes > 0) continue;
      int32_t max = static_cast<int32_t>(std::min<int64_t>(fp.partition_max_bytes, std::max<int64_t>(budget, 1)));
      auto region = log->read(Offset(fp.fetch_offset), std::max(max, 1), hw);
      if (!region.ok()) {
        pd.error_code = kafka_error(region.code());
        r.error = true;
        continue;
      }
      if (region->empty()) continue;
      pd.records.file = proto::FileRegion{region->fd(), region->position, static_cast<int32_t>(region->length)};
      r.keep_alive.push_back(region->file);
      r.bytes += region->length;
      budget -= region->length;
      r.out.emplace_back(ft.topic, region->length, region->last_offset - std::max(region->first_offset, fp.fetch_offset) + 1);
    }
  }
  return r;
}

}  // namespace

Task<proto::FetchResponse> handle(RequestContext& ctx, proto::FetchRequest& req) {
  auto& b = ctx.broker;
  if (ctx.api_version >= 7 && req.session_id != 0) {
    proto::FetchResponse resp;
    resp.error_code = ctx.note(proto::ErrorCode::kFetchSessionIdNotFound);
    co_return resp;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(req.max_wait_ms, 0));
  for (;;) {
    uint64_t seen = b.appends.version();
    Built r = build(ctx, req);
    if (r.bytes >= req.min_bytes || r.error || std::chrono::steady_clock::now() >= deadline) {
      for (const auto& [topic, bytes, records] : r.out)
        b.metrics.bytes_out(topic, static_cast<uint64_t>(bytes), static_cast<uint64_t>(std::max<int64_t>(records, 0)));
      for (const auto& t : r.resp.responses)
        for (const auto& p : t.partitions) ctx.note(p.error_code);
      ctx.keep_alive = std::move(r.keep_alive);
      r.resp.session_id = 0;
      co_return std::move(r.resp);
    }
    b.metrics.fetch_waiting().Increment();
    co_await b.appends.wait(seen, deadline);
    b.metrics.fetch_waiting().Decrement();
  }
}

}  // namespace millrace::broker
