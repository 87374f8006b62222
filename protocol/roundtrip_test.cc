// Round trip of every generated Kafka message in every valid version (the
// shared suite in protocol/testing/roundtrip_suite.h says what is checked).
#include <cstdint>

#include "protocol/generated/messages.h"
#include "protocol/generated/testing/samples.h"
#include "protocol/testing/roundtrip_suite.h"

template <typename T>
void millrace::wire::testing::fill_roundtrip_sample(T& m, int16_t version, int seed) {
  millrace::proto::testing::fill_sample(m, version, seed);
}

namespace millrace::wire::testing {
namespace {
using AllTypes = proto::WithAllMessages<::testing::Types>;
INSTANTIATE_TYPED_TEST_SUITE_P(Kafka, RoundTrip, AllTypes);
}  // namespace
}  // namespace millrace::wire::testing
