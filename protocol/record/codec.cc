#include "protocol/record/codec.h"

namespace millrace::record {

BatchStatus compress(Compression codec, std::span<const uint8_t> in, std::vector<uint8_t>& out,
                     int level) {
  switch (codec) {
    case Compression::kNone: out.insert(out.end(), in.begin(), in.end()); return {};
    case Compression::kGzip: return gzip_compress(in, out, level);
    case Compression::kSnappy: return snappy_xerial_compress(in, out);
    case Compression::kLz4: return lz4_compress(in, out, level);
    case Compression::kZstd: return zstd_compress(in, out, level);
  }
  return {BatchError::kInvalid, "unknown compression codec"};
}

BatchStatus decompress(Compression codec, std::span<const uint8_t> in, std::vector<uint8_t>& out,
                       size_t max_output) {
  out.clear();
  switch (codec) {
    case Compression::kNone:
      if (in.size() > max_output) return {BatchError::kInvalid, "records exceed the size limit"};
      out.assign(in.begin(), in.end());
      return {};
    case Compression::kGzip: return gzip_decompress(in, out, max_output);
    case Compression::kSnappy: return snappy_decompress(in, out, max_output);
    case Compression::kLz4: return lz4_decompress(in, out, max_output);
    case Compression::kZstd: return zstd_decompress(in, out, max_output);
  }
  return {BatchError::kInvalid, "unknown compression codec"};
}

}  // namespace millrace::record
