// Re-encodes a v2 batch with another codec, for a topic whose compression.type
// is not "producer". Everything but the codec bits, batch_length and the CRC is
// kept: offsets, deltas, timestamps, producer fields, flags, and the records'
// bytes (the records section of an uncompressed batch is exactly what a codec
// compresses, see batch_header.h). Not thread-safe per scratch. Never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/record/batch_header.h"
#include "protocol/record/codec.h"

namespace millrace::record {

// Appends the re-encoded batch to `out`. The input must be a whole batch; its
// records are checked with RecordReader first (bad input -> its error, `out`
// untouched). `scratch` holds the decompressed records in between.
BatchStatus recompress_batch(std::span<const uint8_t> batch, Compression codec, std::vector<uint8_t>& out,
                             std::vector<uint8_t>& scratch, int level = 0,
                             size_t max_decompressed = kDefaultMaxDecompressed);

}  // namespace millrace::record
