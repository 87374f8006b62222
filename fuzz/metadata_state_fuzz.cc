// libFuzzer target: the metadata state machine (cluster/metadata/state) fed
// any sequence of metadata records. The input is a series of frames, each a
// one-byte length then that many bytes of one framed record
// (cluster/metadata/records/codec.h); frames that do not decode are skipped.
//
// Oracles beyond "no crash / no sanitizer report": a record that does not
// apply leaves the state unchanged; the state's snapshot, framed, decoded and
// replayed into a fresh state, applies record by record and gives an equal
// state (a snapshot bounds the log without changing what it means).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "cluster/metadata/state/metadata_state.h"

using namespace millrace::cluster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MetadataState s;
  size_t at = 0;
  while (at < size) {
    size_t n = data[at++];
    if (n > size - at) break;
    auto rec = records::decode_record(std::span<const uint8_t>(data + at, n));
    at += n;
    if (!rec.ok()) continue;
    MetadataState before = s;
    if (!s.apply(rec.value.record).empty() && !(s == before)) std::abort();
  }
  MetadataState replayed;
  for (const auto& r : s.snapshot()) {
    auto framed = records::decode_record(records::encode_record(r));
    if (!framed.ok() || !replayed.apply(framed.value.record).empty()) std::abort();
  }
  if (!(replayed == s)) std::abort();
  return 0;
}
