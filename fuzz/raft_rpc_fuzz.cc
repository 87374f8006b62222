// libFuzzer target: untrusted RaftBatchRequest bodies (the internal Raft RPC
// between two nodes) through raft::rpc::decode_batch.
//
// Oracle beyond "no crash / no sanitizer report": a batch that decodes must
// re-encode to bytes that decode to an equal batch (same nodes, same
// messages in the same order), and re-encoding that gives the same bytes
// again (encoding is a fixed point after one normalisation: a whole message
// that could be compact moves to the compact arrays, unknown tags drop).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "raft/rpc/codec.h"

using namespace millrace::raft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rpc::DecodedBatch first = rpc::decode_batch(std::span<const uint8_t>(data, size));
  if (!first.ok()) {
    if (!first.messages.empty() || first.error.empty()) std::abort();
    return 0;
  }
  // The Poll flag travels too (an empty poll may be addressed to -1).
  std::vector<uint8_t> bytes = rpc::encode_batch(first.from, first.to, first.messages, first.poll);
  rpc::DecodedBatch again = rpc::decode_batch(bytes, first.from, first.to);
  if (!again.ok()) std::abort();
  if (again.messages != first.messages || again.poll != first.poll) std::abort();
  if (rpc::encode_batch(again.from, again.to, again.messages, again.poll) != bytes) std::abort();
  return 0;
}
