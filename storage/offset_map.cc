#include "storage/offset_map.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace millrace::storage {
namespace {

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t fmix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

uint64_t load_le(const uint8_t* p, size_t n) {  // n <= 8 bytes, little-endian
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

KeyHash hash_key(std::span<const uint8_t> key) {
  constexpr uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
  const uint8_t* p = key.data();
  const size_t n = key.size();
  uint64_t h1 = 0, h2 = 0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    uint64_t k1 = load_le(p + i, 8), k2 = load_le(p + i + 8, 8);
    k1 *= c1; k1 = rotl(k1, 31); k1 *= c2; h1 ^= k1;
    h1 = rotl(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
    k2 *= c2; k2 = rotl(k2, 33); k2 *= c1; h2 ^= k2;
    h2 = rotl(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
  }
  size_t tail = n - i;
  if (tail > 8) {
    uint64_t k2 = load_le(p + i + 8, tail - 8);
    k2 *= c2; k2 = rotl(k2, 33); k2 *= c1; h2 ^= k2;
  }
  if (tail > 0) {
    uint64_t k1 = load_le(p + i, std::min<size_t>(tail, 8));
    k1 *= c1; k1 = rotl(k1, 31); k1 *= c2; h1 ^= k1;
  }
  h1 ^= n;
  h2 ^= n;
  h1 += h2;
  h2 += h1;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 += h2;
  h2 += h1;
  return {h1, h2};
}

void OffsetMap::Free::operator()(Slot* p) const { std::free(p); }

OffsetMap::OffsetMap(int64_t memory_bytes) {
  // At least two slots: one entry, and the empty slot that ends every probe.
  int64_t bytes = std::clamp<int64_t>(memory_bytes, 2 * static_cast<int64_t>(kSlotBytes), kMaxMemoryBytes);
  slots_ = static_cast<size_t>(bytes) / kSlotBytes;
  // A table the allocator refuses: halve it (fewer keys per pass, never a crash).
  while (!table_) {
    table_.reset(static_cast<Slot*>(std::calloc(slots_, sizeof(Slot))));
    if (table_) break;
    if (slots_ <= 2) std::abort();  // 48 bytes refused: nothing can run
    slots_ /= 2;
  }
  // Invariant: size_ <= max_entries_ < slots_, so linear probing always ends
  // at an empty slot.
  max_entries_ = std::clamp<size_t>(static_cast<size_t>(static_cast<double>(slots_) * kLoadFactor), 1, slots_ - 1);
}

size_t OffsetMap::find(const KeyHash& h) const {
  size_t i = static_cast<size_t>(h.hi % slots_);
  for (;;) {
    const Slot& s = table_[i];
    if (s.offset_plus_one == 0 || (s.hi == h.hi && s.lo == h.lo)) return i;
    if (++i == slots_) i = 0;
  }
}

bool OffsetMap::put(const KeyHash& h, int64_t offset) {
  size_t i = find(h);
  Slot& s = table_[i];
  if (s.offset_plus_one == 0) {
    if (full()) return false;
    s.hi = h.hi;
    s.lo = h.lo;
    ++size_;
  }
  s.offset_plus_one = offset + 1;
  return true;
}

int64_t OffsetMap::get(const KeyHash& h) const {
  const Slot& s = table_[find(h)];
  return s.offset_plus_one - 1;  // an empty slot: -1
}

}  // namespace millrace::storage
