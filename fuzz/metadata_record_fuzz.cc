// libFuzzer target: untrusted metadata log records (the controller quorum's
// log, read from disk and from peers) through cluster::records::decode_record.
//
// Oracle beyond "no crash / no sanitizer report": a record that decodes must
// re-encode, in its version and type, to bytes that decode again and re-encode
// to the same bytes (a fixed point after one normalisation: non-minimal
// varints and booleans other than 0/1 normalise, unknown tagged fields are
// kept). Bytes, not values, are compared: a float64 may be a NaN, which is
// not equal to itself but must survive bit for bit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "cluster/metadata/records/codec.h"

using namespace millrace::cluster::records;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DecodedRecord first = decode_record(std::span<const uint8_t>(data, size));
  if (!first.ok()) return 0;
  std::vector<uint8_t> bytes = encode_record(first.value.record, first.value.version);
  DecodedRecord again = decode_record(bytes);
  if (!again.ok()) std::abort();
  if (again.value.version != first.value.version ||
      record_type(again.value.record) != record_type(first.value.record))
    std::abort();
  if (encode_record(again.value.record, again.value.version) != bytes) std::abort();
  return 0;
}
