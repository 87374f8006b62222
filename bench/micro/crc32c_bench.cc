// CRC-32C throughput, hardware (SSE4.2, three streams) and portable
// (slicing-by-8), next to memcpy of the same bytes. Reports bytes/second.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "bench/micro/page_buffer.h"
#include "protocol/record/crc32c.h"

namespace {

std::vector<uint8_t> random_bytes(size_t n) {
  std::mt19937_64 rng(7);
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

void BM_Crc32cHardware(benchmark::State& state) {
  if (!millrace::record::crc32c_hardware_available()) {
    state.SkipWithError("no SSE4.2");
    return;
  }
  auto buf = random_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(millrace::record::crc32c_hardware(0, buf.data(), buf.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void BM_Crc32cPortable(benchmark::State& state) {
  auto buf = random_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(millrace::record::crc32c_portable(0, buf.data(), buf.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void BM_Crc32cDispatch(benchmark::State& state) {
  auto buf = random_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(millrace::record::crc32c(0, buf.data(), buf.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void BM_Memcpy(benchmark::State& state) {
  millrace::bench::PageBuffer src(static_cast<size_t>(state.range(0))), dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

}  // namespace

BENCHMARK(BM_Crc32cHardware)->Arg(16 << 10)->Arg(1 << 20);
BENCHMARK(BM_Crc32cPortable)->Arg(16 << 10)->Arg(1 << 20);
BENCHMARK(BM_Crc32cDispatch)->Arg(16 << 10)->Arg(1 << 20);
BENCHMARK(BM_Memcpy)->Arg(16 << 10)->Arg(1 << 20);
