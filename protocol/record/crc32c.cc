// CRC-32C: portable slicing-by-8 and SSE4.2 three-stream paths (see crc32c.h).
//
// Three-stream method (as in Mark Adler's crc32c.c, re-derived here): a block of
// 3*L bytes is split into streams A, B, C of L bytes each. With raw(r, s) the CRC
// register after feeding s starting from register r (no pre/post inversion), and
// because the CRC is linear over GF(2):
//   raw(r, A B C) = Z(Z(raw(r, A)) ^ raw(0, B)) ^ raw(0, C)
// where Z(x) = raw(x, L zero bytes) is a linear map on 32-bit values, applied with
// four 256-entry tables (one per byte of x). A, B and C are fed to the crc32
// instruction interleaved, so three independent dependency chains run at once.
#include "protocol/record/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace millrace::record {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

using Table = std::array<std::array<uint32_t, 256>, 8>;

constexpr Table make_slicing_table() {
  Table t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (kPoly & (0u - (c & 1u)));
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i)
    for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  return t;
}

constexpr Table kTable = make_slicing_table();

inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

// Raw register update (no inversion), portable.
uint32_t raw_portable(uint32_t r, const uint8_t* p, size_t n) {
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    r = (r >> 8) ^ kTable[0][(r ^ *p++) & 0xff];
    --n;
  }
  while (n >= 8) {
    uint32_t lo = load_le32(p) ^ r;
    uint32_t hi = load_le32(p + 4);
    r = kTable[7][lo & 0xff] ^ kTable[6][(lo >> 8) & 0xff] ^ kTable[5][(lo >> 16) & 0xff] ^
        kTable[4][lo >> 24] ^ kTable[3][hi & 0xff] ^ kTable[2][(hi >> 8) & 0xff] ^
        kTable[1][(hi >> 16) & 0xff] ^ kTable[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) r = (r >> 8) ^ kTable[0][(r ^ *p++) & 0xff];
  return r;
}

#if defined(__x86_64__)

// Z(x) for a fixed stream length: four byte-indexed tables.
struct ShiftTable {
  std::array<std::array<uint32_t, 256>, 4> t{};
  uint32_t operator()(uint32_t x) const {
    return t[0][x & 0xff] ^ t[1][(x >> 8) & 0xff] ^ t[2][(x >> 16) & 0xff] ^ t[3][x >> 24];
  }
};

ShiftTable make_shift_table(size_t zero_bytes) {
  // Z is linear: Z(x) = XOR of Z(bit) over the set bits of x.
  std::array<uint32_t, 32> basis{};
  for (int bit = 0; bit < 32; ++bit) {
    uint32_t r = 1u << bit;
    for (size_t i = 0; i < zero_bytes; ++i) r = (r >> 8) ^ kTable[0][r & 0xff];
    basis[bit] = r;
  }
  ShiftTable s;
  for (int k = 0; k < 4; ++k)
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t v = 0;
      for (int i = 0; i < 8; ++i)
        if (b & (1u << i)) v ^= basis[8 * k + i];
      s.t[k][b] = v;
    }
  return s;
}

constexpr size_t kLong = 8192;  // bytes per stream, big blocks
constexpr size_t kShort = 256;  // bytes per stream, small blocks

struct ShiftTables {
  ShiftTable long_shift = make_shift_table(kLong);
  ShiftTable short_shift = make_shift_table(kShort);
};

const ShiftTables& shift_tables() {
  static const ShiftTables tables;  // built once, immutable afterwards
  return tables;
}

__attribute__((target("sse4.2"))) inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Three streams of `len` bytes each (len a multiple of 8), combined with `shift`.
__attribute__((target("sse4.2"))) uint32_t three_way(uint32_t r, const uint8_t*& p, size_t len,
                                                     const ShiftTable& shift) {
  uint64_t c0 = r, c1 = 0, c2 = 0;
  const uint8_t* a = p;
  const uint8_t* end = p + len;
  for (; a < end; a += 8) {
    c0 = _mm_crc32_u64(c0, load64(a));
    c1 = _mm_crc32_u64(c1, load64(a + len));
    c2 = _mm_crc32_u64(c2, load64(a + 2 * len));
  }
  p += 3 * len;
  uint32_t x = shift(static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c1);
  return shift(x) ^ static_cast<uint32_t>(c2);
}

__attribute__((target("sse4.2"))) uint32_t raw_hardware(uint32_t r, const uint8_t* p, size_t n) {
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    r = _mm_crc32_u8(r, *p++);
    --n;
  }
  if (n >= 3 * kShort) {
    const ShiftTables& tables = shift_tables();
    while (n >= 3 * kLong) {
      r = three_way(r, p, kLong, tables.long_shift);
      n -= 3 * kLong;
    }
    while (n >= 3 * kShort) {
      r = three_way(r, p, kShort, tables.short_shift);
      n -= 3 * kShort;
    }
  }
  uint64_t r64 = r;
  while (n >= 8) {
    r64 = _mm_crc32_u64(r64, load64(p));
    p += 8;
    n -= 8;
  }
  r = static_cast<uint32_t>(r64);
  while (n-- > 0) r = _mm_crc32_u8(r, *p++);
  return r;
}

#endif  // __x86_64__

using CrcFn = uint32_t (*)(uint32_t, const void*, size_t);

CrcFn choose() {
#if defined(__x86_64__)
  if (crc32c_hardware_available()) return &crc32c_hardware;
#endif
  return &crc32c_portable;
}

}  // namespace

uint32_t crc32c_portable(uint32_t crc, const void* data, size_t n) {
  return ~raw_portable(~crc, static_cast<const uint8_t*>(data), n);
}

bool crc32c_hardware_available() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

uint32_t crc32c_hardware(uint32_t crc, const void* data, size_t n) {
#if defined(__x86_64__)
  return ~raw_hardware(~crc, static_cast<const uint8_t*>(data), n);
#else
  return crc32c_portable(crc, data, n);
#endif
}

uint32_t crc32c(uint32_t crc, const void* data, size_t n) {
  static const CrcFn fn = choose();  // decided once; immutable afterwards
  return fn(crc, data, n);
}

}  // namespace millrace::record
