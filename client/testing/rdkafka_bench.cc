// Reference producer for `millrace bench produce`: librdkafka (Debian's 2.0.2) with
// the same settings (acks, idempotence, batch.size, linger.ms, record size, count),
// measured the same way (send to delivery-report latency, records/s, MB/s).
// Usage: millrace_rdkafka_bench BOOTSTRAP TOPIC RECORDS RECORD_SIZE ACKS LINGER_MS BATCH_SIZE
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
using Clock = std::chrono::steady_clock;
std::vector<double> g_lat;
uint64_t g_failed = 0;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* t0 = static_cast<Clock::time_point*>(m->_private);
  if (m->err) ++g_failed;
  else g_lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - *t0).count());
  delete t0;
}

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP TOPIC RECORDS RECORD_SIZE ACKS LINGER_MS BATCH_SIZE\n", argv[0]);
    return 2;
  }
  long records = std::atol(argv[3]);
  size_t size = static_cast<size_t>(std::atol(argv[4]));
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "%s: %s\n", k, err);
      std::exit(2);
    }
  };
  set("bootstrap.servers", argv[1]);
  set("acks", argv[5]);
  set("enable.idempotence", std::string(argv[5]) == "-1" || std::string(argv[5]) == "all" ? "true" : "false");
  set("linger.ms", argv[6]);
  set("batch.size", argv[7]);
  set("queue.buffering.max.kbytes", "32768");
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) { std::fprintf(stderr, "rd_kafka_new: %s\n", err); return 1; }
  std::string payload(size, 'x');
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + (i * 7919) % 26);
  g_lat.reserve(static_cast<size_t>(records));
  auto start = Clock::now();
  for (long i = 0; i < records; ++i) {
    auto* t0 = new Clock::time_point(Clock::now());
    while (true) {
      rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]),
                                                RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(t0),
                                                RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) { rd_kafka_poll(rk, 1); continue; }
      if (e) { std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e)); return 1; }
      break;
    }
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 120000);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  double rps = static_cast<double>(g_lat.size()) / secs;
  double mx = g_lat.empty() ? 0 : *std::max_element(g_lat.begin(), g_lat.end());
  std::printf("{\"tool\":\"librdkafka\",\"mode\":\"produce\",\"records\":%zu,\"failed\":%llu,\"record_size\":%zu,"
              "\"seconds\":%.3f,\"records_per_sec\":%.3f,\"mb_per_sec\":%.3f,\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,"
              "\"p999\":%.3f,\"max\":%.3f}}\n",
              g_lat.size(), static_cast<unsigned long long>(g_failed), size, secs, rps,
              rps * static_cast<double>(size) / 1e6, pct(g_lat, 50), pct(g_lat, 99), pct(g_lat, 99.9), mx);
  rd_kafka_destroy(rk);
  return g_failed ? 1 : 0;
}
