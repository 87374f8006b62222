// Round trip of the generated internal Raft RPC messages (raft/rpc/spec) in
// every valid version, by the same suite as Kafka's messages
// (protocol/testing/roundtrip_suite.h says what is checked).
#include <cstdint>

#include "protocol/testing/roundtrip_suite.h"
#include "raft/rpc/generated/messages.h"
#include "raft/rpc/generated/testing/samples.h"

template <typename T>
void millrace::wire::testing::fill_roundtrip_sample(T& m, int16_t version, int seed) {
  millrace::raft::rpc::testing::fill_sample(m, version, seed);
}

namespace millrace::wire::testing {
namespace {
using AllTypes = raft::rpc::WithAllMessages<::testing::Types>;
INSTANTIATE_TYPED_TEST_SUITE_P(RaftRpc, RoundTrip, AllTypes);
}  // namespace
}  // namespace millrace::wire::testing
