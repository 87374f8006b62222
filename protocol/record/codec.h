// Compression codecs of Kafka record batches, through the Debian libraries.
// What each codec's bytes look like (the records section of a batch, see
// batch_header.h, is one compressed stream):
//
//   gzip    RFC 1952 gzip member(s) (zlib); what Java's GZIPOutputStream writes.
//   snappy  either raw snappy (what librdkafka writes) or the xerial framing that
//           the Java client writes:
//             8 bytes  magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
//             4 bytes  version (1, big-endian)       4 bytes  compatible version (1)
//             then repeated: 4 bytes big-endian chunk length, raw snappy chunk
//           Both are decoded; we encode xerial with 32 KiB chunks, like Java.
//   lz4     LZ4 frame format (lz4frame.h), 64 KiB independent blocks, no content
//           checksum or size: the frame KafkaLZ4BlockOutputStream writes.
//   zstd    zstd frame(s) (zstd.h), level 3 by default as in Kafka.
//
// Decompression is bounded: output beyond `max_output` bytes stops the decoder
// with kInvalid, so a small batch can never expand into unbounded memory.
// Damaged streams are kCorrupt. Nothing here throws or keeps global state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/record/batch_header.h"

namespace millrace::record {

// Default decompression bound: Kafka's default message.max.bytes plus slack is far
// below this; callers pass their topic's max.message.bytes-derived limit.
inline constexpr size_t kDefaultMaxDecompressed = 64 * 1024 * 1024;

// Appends the compressed form of `in` to `out`. level 0 = the codec's default
// (gzip 6, lz4 fast, zstd 3). kNone appends `in` unchanged.
BatchStatus compress(Compression codec, std::span<const uint8_t> in, std::vector<uint8_t>& out,
                     int level = 0);

// Appends the decompressed form of `in` to `out` (out is cleared first).
BatchStatus decompress(Compression codec, std::span<const uint8_t> in, std::vector<uint8_t>& out,
                       size_t max_output = kDefaultMaxDecompressed);

// Per-codec entry points (codec_*.cc), used by compress()/decompress().
BatchStatus gzip_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out, int level);
BatchStatus gzip_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output);
BatchStatus snappy_xerial_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out);
BatchStatus snappy_raw_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out);
BatchStatus snappy_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output);
BatchStatus lz4_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out, int level);
BatchStatus lz4_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output);
BatchStatus zstd_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out, int level);
BatchStatus zstd_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output);

}  // namespace millrace::record
