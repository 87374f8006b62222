// Round trip of the generated metadata records (../shared/kafka-protocol/metadata)
// in every valid version, by the same suite as Kafka's messages
// (protocol/testing/roundtrip_suite.h says what is checked).
#include <cstdint>

#include "cluster/metadata/records/generated/messages.h"
#include "cluster/metadata/records/generated/testing/samples.h"
#include "protocol/testing/roundtrip_suite.h"

template <typename T>
void millrace::wire::testing::fill_roundtrip_sample(T& m, int16_t version, int seed) {
  millrace::cluster::records::testing::fill_sample(m, version, seed);
}

namespace millrace::wire::testing {
namespace {
using AllTypes = cluster::records::WithAllMessages<::testing::Types>;
INSTANTIATE_TYPED_TEST_SUITE_P(MetadataRecords, RoundTrip, AllTypes);
}  // namespace
}  // namespace millrace::wire::testing
