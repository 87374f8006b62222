// Record batch encode and decode: 16 KiB batches of 1 KiB records, uncompressed
// and with lz4 and zstd, next to memcpy of the same 16 KiB. Decode = what the
// broker does with a produced batch: validate_batch (CRC) then read every record.
// Bytes/second counts the uncompressed record bytes.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench/micro/page_buffer.h"
#include "protocol/record/batch_builder.h"
#include "protocol/record/record_reader.h"

namespace {

using namespace millrace::record;

constexpr size_t kRecordSize = 1024;
constexpr size_t kRecords = 16;  // 16 KiB of values per batch

// Text-like values (compressible about like JSON logs), different per record.
std::vector<std::string> values() {
  std::mt19937 rng(11);
  const char* words[] = {"{\"user\":", "\"id\":", "\"event\":\"click\"", ",", "\"ts\":", "}", " "};
  std::vector<std::string> out;
  for (size_t i = 0; i < kRecords; ++i) {
    std::string v;
    while (v.size() < kRecordSize) {
      v += words[rng() % 7];
      v += std::to_string(rng() % 100000);
    }
    v.resize(kRecordSize);
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<uint8_t> encode(Compression c, const std::vector<std::string>& vals) {
  BatchOptions opts;
  opts.compression = c;
  opts.producer_id = 1000;
  opts.producer_epoch = 0;
  opts.base_sequence = 0;
  BatchBuilder b(opts);
  int64_t ts = 1700000000000;
  for (size_t i = 0; i < vals.size(); ++i) {
    std::string key = "key-" + std::to_string(i);
    b.append(ts + static_cast<int64_t>(i), as_bytes(key), as_bytes(vals[i]));
  }
  std::vector<uint8_t> out;
  b.finish(out);
  return out;
}

void BM_Encode(benchmark::State& state) {
  auto c = static_cast<Compression>(state.range(0));
  auto vals = values();
  std::vector<uint8_t> out;
  BatchOptions opts;
  opts.compression = c;
  BatchBuilder b(opts);
  for (auto _ : state) {
    out.clear();
    for (size_t i = 0; i < vals.size(); ++i) b.append(1700000000000 + static_cast<int64_t>(i), as_bytes("key"), as_bytes(vals[i]));
    b.finish(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRecords * kRecordSize));
  state.counters["batch_bytes"] = static_cast<double>(out.size());
}

void BM_Decode(benchmark::State& state) {
  auto c = static_cast<Compression>(state.range(0));
  auto batch = encode(c, values());
  std::vector<uint8_t> scratch;
  for (auto _ : state) {
    if (validate_batch(batch) != BatchError::kOk) { state.SkipWithError("invalid batch"); break; }
    size_t bytes = 0;
    auto s = for_each_record(batch, [&](const Record& r) { bytes += r.value->size(); return true; }, scratch);
    if (!s.ok() || bytes != kRecords * kRecordSize) { state.SkipWithError("decode failed"); break; }
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRecords * kRecordSize));
  state.counters["batch_bytes"] = static_cast<double>(batch.size());
}

void BM_Memcpy16KiB(benchmark::State& state) {
  millrace::bench::PageBuffer src(kRecords * kRecordSize), dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * src.size()));
}

void codecs(benchmark::internal::Benchmark* b) {
  b->ArgName("codec");
  for (Compression c : {Compression::kNone, Compression::kLz4, Compression::kZstd}) b->Arg(static_cast<int>(c));
}

}  // namespace

BENCHMARK(BM_Encode)->Apply(codecs);
BENCHMARK(BM_Decode)->Apply(codecs);
BENCHMARK(BM_Memcpy16KiB);
