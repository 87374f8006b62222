// zstd through libzstd's streaming decoder. The window is capped so that a frame
// header cannot make us reserve more than kMaxWindowLog bytes of history.
#include <zstd.h>
#include <zstd_errors.h>

#include "protocol/record/codec.h"
#include "protocol/record/codec_buffer.h"

namespace millrace::record {
namespace {

constexpr int kDefaultLevel = 3;    // Kafka's compression.zstd.level default
constexpr int kMaxWindowLog = 24;   // 16 MiB; producers at level <= 19 stay below

struct ZstdDecompressionContext {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  ~ZstdDecompressionContext() { ZSTD_freeDCtx(ctx); }
};

}  // namespace

BatchStatus zstd_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out, int level) {
  size_t at = out.size();
  size_t bound = ZSTD_compressBound(in.size());
  out.resize(at + bound);
  size_t n = ZSTD_compress(out.data() + at, bound, in.data(), in.size(), level == 0 ? kDefaultLevel : level);
  if (ZSTD_isError(n)) {
    out.resize(at);
    return {BatchError::kInvalid, "zstd: compression failed"};
  }
  out.resize(at + n);
  return {};
}

BatchStatus zstd_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output) {
  ZstdDecompressionContext d;
  if (d.ctx == nullptr) return {BatchError::kInvalid, "zstd: cannot create a decompression context"};
  if (ZSTD_isError(ZSTD_DCtx_setParameter(d.ctx, ZSTD_d_windowLogMax, kMaxWindowLog)))
    return {BatchError::kInvalid, "zstd: cannot cap the window"};
  detail::BoundedOutput sink(out, max_output, in.size() * 4);
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  size_t hint = 1;  // 0 once a frame is complete and flushed
  for (;;) {
    if (!sink.grow()) return {BatchError::kInvalid, detail::kTooLarge};
    ZSTD_outBuffer dst{sink.next(), sink.available(), 0};
    hint = ZSTD_decompressStream(d.ctx, &dst, &src);
    if (ZSTD_isError(hint)) {
      if (ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge)
        return {BatchError::kInvalid, "zstd: frame window larger than allowed"};
      return {BatchError::kCorrupt, "zstd: damaged frame"};
    }
    sink.commit(dst.pos);
    if (sink.over_limit()) return {BatchError::kInvalid, detail::kTooLarge};
    bool input_done = src.pos == src.size;
    bool output_full = dst.pos == dst.size;
    if (input_done && hint == 0) return {};
    if (input_done && !output_full) return {BatchError::kCorrupt, "zstd: frame truncated"};
  }
}

}  // namespace millrace::record
