// LZ4 frame format through liblz4's lz4frame.h. Encoding matches what Kafka's
// KafkaLZ4BlockOutputStream writes: 64 KiB independent blocks, no block or
// content checksum, no content size. Concatenated frames are decoded in turn.
#include <lz4frame.h>

#include "protocol/record/codec.h"
#include "protocol/record/codec_buffer.h"

namespace millrace::record {
namespace {

struct Lz4DecompressionContext {
  LZ4F_dctx* ctx = nullptr;
  bool ok = !LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION));
  ~Lz4DecompressionContext() { if (ctx) LZ4F_freeDecompressionContext(ctx); }
};

}  // namespace

BatchStatus lz4_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out, int level) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
  prefs.compressionLevel = level;
  size_t at = out.size();
  size_t bound = LZ4F_compressFrameBound(in.size(), &prefs);
  out.resize(at + bound);
  size_t n = LZ4F_compressFrame(out.data() + at, bound, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out.resize(at);
    return {BatchError::kInvalid, "lz4: compression failed"};
  }
  out.resize(at + n);
  return {};
}

BatchStatus lz4_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output) {
  Lz4DecompressionContext d;
  if (!d.ok) return {BatchError::kInvalid, "lz4: cannot create a decompression context"};
  detail::BoundedOutput sink(out, max_output, in.size() * 4);
  size_t pos = 0;
  size_t hint = 1;  // 0 once a frame is complete
  while (pos < in.size() || (hint != 0 && sink.available() == 0)) {
    if (!sink.grow()) return {BatchError::kInvalid, detail::kTooLarge};
    size_t dst = sink.available();
    size_t src = in.size() - pos;
    hint = LZ4F_decompress(d.ctx, sink.next(), &dst, in.data() + pos, &src, nullptr);
    if (LZ4F_isError(hint)) return {BatchError::kCorrupt, "lz4: damaged frame"};
    pos += src;
    sink.commit(dst);
    if (sink.over_limit()) return {BatchError::kInvalid, detail::kTooLarge};
    if (src == 0 && dst == 0 && sink.available() > 0)
      return {BatchError::kCorrupt, "lz4: decoder made no progress"};
  }
  if (hint != 0) return {BatchError::kCorrupt, "lz4: frame truncated"};
  return {};
}

}  // namespace millrace::record
