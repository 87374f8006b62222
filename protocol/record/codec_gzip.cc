// gzip (RFC 1952) through zlib. Concatenated members are decoded in turn, as
// Java's GZIPInputStream does.
#include <zlib.h>

#include <climits>

#include "protocol/record/codec.h"
#include "protocol/record/codec_buffer.h"

namespace millrace::record {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip wrapper

struct Inflater {
  z_stream zs{};
  bool ok = inflateInit2(&zs, kGzipWindowBits) == Z_OK;
  ~Inflater() { if (ok) inflateEnd(&zs); }
};

struct Deflater {
  z_stream zs{};
  bool ok;
  explicit Deflater(int level)
      : ok(deflateInit2(&zs, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK) {}
  ~Deflater() { if (ok) deflateEnd(&zs); }
};

}  // namespace

BatchStatus gzip_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out, int level) {
  if (in.size() > UINT_MAX) return {BatchError::kInvalid, "gzip input too large"};
  Deflater d(level == 0 ? Z_DEFAULT_COMPRESSION : level);
  if (!d.ok) return {BatchError::kInvalid, "gzip: bad compression level"};
  size_t start = out.size();
  size_t bound = deflateBound(&d.zs, static_cast<uLong>(in.size()));
  out.resize(start + bound);
  d.zs.next_in = const_cast<Bytef*>(in.data());
  d.zs.avail_in = static_cast<uInt>(in.size());
  d.zs.next_out = out.data() + start;
  d.zs.avail_out = static_cast<uInt>(bound);
  int ret = deflate(&d.zs, Z_FINISH);
  out.resize(start + d.zs.total_out);
  if (ret != Z_STREAM_END) return {BatchError::kInvalid, "gzip: deflate did not finish"};
  return {};
}

BatchStatus gzip_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output) {
  if (in.size() > UINT_MAX) return {BatchError::kInvalid, "gzip input too large"};
  Inflater inf;
  if (!inf.ok) return {BatchError::kInvalid, "gzip: inflateInit failed"};
  detail::BoundedOutput sink(out, max_output, in.size() * 4);
  inf.zs.next_in = const_cast<Bytef*>(in.data());
  inf.zs.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    if (!sink.grow()) return {BatchError::kInvalid, detail::kTooLarge};
    size_t avail = std::min<size_t>(sink.available(), UINT_MAX);
    inf.zs.next_out = sink.next();
    inf.zs.avail_out = static_cast<uInt>(avail);
    int ret = inflate(&inf.zs, Z_NO_FLUSH);
    sink.commit(avail - inf.zs.avail_out);
    if (sink.over_limit()) return {BatchError::kInvalid, detail::kTooLarge};
    if (ret == Z_STREAM_END) {
      if (inf.zs.avail_in == 0) return {};
      if (inflateReset(&inf.zs) != Z_OK) return {BatchError::kCorrupt, "gzip: reset failed"};
      continue;  // next member
    }
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR && inf.zs.avail_out == 0) continue;  // only needs more room
    if (ret == Z_BUF_ERROR) return {BatchError::kCorrupt, "gzip: stream truncated"};
    return {BatchError::kCorrupt, "gzip: damaged stream"};
  }
}

}  // namespace millrace::record
