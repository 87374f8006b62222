// Page-aligned byte buffer for memcpy baselines. Why: on this machine's AMD EPYC,
// glibc's memcpy (rep movsb) runs ~30x slower when dst is 1-31 bytes ahead of src
// modulo 4096 (measured: 16 KiB at dst-src = 16 mod 4096: 0.4 GB/s, at 0 or 64:
// 11-21 GB/s). Two heap vectors land in that case by accident, so baselines
// use page-aligned buffers (dst - src = 0 mod 4096) to measure the real ceiling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace millrace::bench {

class PageBuffer {
 public:
  explicit PageBuffer(size_t n, uint8_t fill = 0x5a)
      : n_(n), p_(static_cast<uint8_t*>(std::aligned_alloc(4096, (n + 4095) / 4096 * 4096))) {
    std::memset(p_, fill, n_);
  }
  ~PageBuffer() { std::free(p_); }
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  uint8_t* data() { return p_; }
  size_t size() const { return n_; }

 private:
  size_t n_;
  uint8_t* p_;
};

}  // namespace millrace::bench
