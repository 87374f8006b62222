// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's
// record batch v2 (it covers Attributes to the end of the batch, see batch_header.h).
//
//   crc32c(0, p, n)            standard CRC-32C of p[0..n)  ("123456789" -> 0xE3069283)
//   crc32c(crc32c(0, a, n), b, m) == crc32c(0, a ++ b, n + m)   (incremental)
//
// crc32c() picks the fastest path once, at first use: SSE4.2 (_mm_crc32_u64, three
// interleaved streams so the 3-cycle instruction latency is hidden) when
// __builtin_cpu_supports("sse4.2"), else a portable slicing-by-8 table loop.
// Both paths are exposed so tests and benchmarks can check each one directly.
// All functions are pure and thread-safe; the lookup tables are immutable.
#pragma once

#include <cstddef>
#include <cstdint>

namespace millrace::record {

// Extends `crc` (a finished CRC-32C value, 0 for the empty string) with n bytes.
uint32_t crc32c(uint32_t crc, const void* data, size_t n);

// Portable slicing-by-8 path; same results as crc32c() on every machine.
uint32_t crc32c_portable(uint32_t crc, const void* data, size_t n);

// True when this CPU has SSE4.2; crc32c_hardware() may be called only then.
bool crc32c_hardware_available();
uint32_t crc32c_hardware(uint32_t crc, const void* data, size_t n);

}  // namespace millrace::record
