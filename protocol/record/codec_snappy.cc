// Snappy: raw blocks and the xerial framing of Java's SnappyOutputStream (layout
// drawn in codec.h). Each chunk's declared length is checked against the limit
// before any memory is reserved for it.
#include <snappy.h>

#include <cstring>

#include "protocol/record/codec.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::record {
namespace {

constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr int32_t kXerialVersion = 1;
constexpr int32_t kXerialCompatibleVersion = 1;
constexpr size_t kXerialHeaderSize = 16;
constexpr size_t kXerialChunk = 32 * 1024;  // SnappyOutputStream's default block size

// Appends one raw snappy block's contents to out, bounded by max_output in total.
BatchStatus raw_block(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output) {
  const char* src = reinterpret_cast<const char*>(in.data());
  size_t n = 0;
  if (!snappy::GetUncompressedLength(src, in.size(), &n))
    return {BatchError::kCorrupt, "snappy: bad length preamble"};
  if (n > max_output || out.size() > max_output - n)
    return {BatchError::kInvalid, "decompressed records exceed the size limit"};
  size_t at = out.size();
  out.resize(at + n);
  if (!snappy::RawUncompress(src, in.size(), reinterpret_cast<char*>(out.data() + at))) {
    out.resize(at);
    return {BatchError::kCorrupt, "snappy: damaged block"};
  }
  return {};
}

bool is_xerial(std::span<const uint8_t> in) {
  return in.size() >= sizeof(kXerialMagic) && std::memcmp(in.data(), kXerialMagic, sizeof(kXerialMagic)) == 0;
}

}  // namespace

BatchStatus snappy_raw_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  size_t at = out.size();
  out.resize(at + snappy::MaxCompressedLength(in.size()));
  size_t n = 0;
  snappy::RawCompress(reinterpret_cast<const char*>(in.data()), in.size(),
                      reinterpret_cast<char*>(out.data() + at), &n);
  out.resize(at + n);
  return {};
}

BatchStatus snappy_xerial_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  wire::Writer w(out);
  w.bytes(kXerialMagic);
  w.int32(kXerialVersion);
  w.int32(kXerialCompatibleVersion);
  for (size_t pos = 0; pos < in.size(); pos += kXerialChunk) {
    size_t len_at = w.reserve_int32();
    size_t before = out.size();
    snappy_raw_compress(in.subspan(pos, std::min(kXerialChunk, in.size() - pos)), out);
    w.patch_int32(len_at, static_cast<int32_t>(out.size() - before));
  }
  return {};
}

BatchStatus snappy_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output) {
  out.clear();
  if (!is_xerial(in)) return raw_block(in, out, max_output);
  if (in.size() < kXerialHeaderSize) return {BatchError::kCorrupt, "snappy: truncated xerial header"};
  wire::Reader r(in.subspan(sizeof(kXerialMagic)));
  r.int32();  // version: any; the compatible version says whether we can read it
  int32_t compatible = r.int32();
  if (compatible > kXerialCompatibleVersion)
    return {BatchError::kInvalid, "snappy: unsupported xerial compatible version"};
  while (!r.at_end()) {
    int32_t len = r.int32();
    if (!r.ok()) return {BatchError::kCorrupt, "snappy: truncated xerial chunk length"};
    if (len < 0 || static_cast<size_t>(len) > r.remaining())
      return {BatchError::kCorrupt, "snappy: xerial chunk longer than the input"};
    if (len == 0) continue;
    BatchStatus s = raw_block(r.bytes(static_cast<size_t>(len)), out, max_output);
    if (!s.ok()) return s;
  }
  return {};
}

}  // namespace millrace::record
