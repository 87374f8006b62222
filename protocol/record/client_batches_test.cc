// Batches written by real clients, as Apache Kafka 4.1.1 stored them (segment
// files copied from a KRaft broker's log dir, so offsets and the leader epoch are
// Kafka's): kcat/librdkafka 2.0.2 with every codec (its snappy is raw, not
// xerial), python3-kafka 2.0.2 uncompressed and gzip (its own pure-Python batch
// writer). The expected lines are what kafka-clients' own reader printed for the
// same files (testdata/java/regenerate read ...): offset timestamp key-size
// value-size headers. Our reader must print exactly the same.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "protocol/record/record_reader.h"

namespace millrace::record {
namespace {

namespace fs = std::filesystem;
const fs::path kTestdata = MILLRACE_RECORD_TESTDATA;

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Prints a segment file the way JavaBatches.java's "read" mode does.
std::string dump_segment(const std::vector<uint8_t>& bytes) {
  static const char* kNames[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  std::string out;
  std::span<const uint8_t> rest(bytes);
  std::vector<uint8_t> scratch;
  while (!rest.empty()) {
    if (BatchError e = validate_batch(rest); e != BatchError::kOk) return out + "error " + to_string(e);
    RecordReader reader(rest, scratch);
    const BatchHeader& h = reader.header();
    out += "batch " + std::to_string(h.base_offset) + " codec=" + kNames[static_cast<int>(h.compression())] +
           " count=" + std::to_string(h.record_count) + " pid=" + std::to_string(h.producer_id) +
           " txn=" + (h.is_transactional() ? "true" : "false") + " control=" + (h.is_control() ? "true" : "false") + "\n";
    Record r;
    while (reader.next(r)) {
      out += std::to_string(record_offset(h, r)) + " " + std::to_string(record_timestamp(h, r)) + " " +
             std::to_string(r.key ? static_cast<long>(r.key->size()) : -1L) + " " +
             std::to_string(r.value ? static_cast<long>(r.value->size()) : -1L) + " ";
      for (const Header& hd : r.headers)
        out += std::string(hd.key) + "=" + (hd.value ? std::string(as_string(*hd.value)) : "null") + ";";
      out += "\n";
    }
    if (!reader.status().ok()) return out + "error " + reader.status().detail;
    rest = rest.subspan(h.total_size());
  }
  return out;
}

std::string librdkafka(const char* codec, const char* pid, const char* ts, int v0_size) {
  std::string head = std::string("batch 0 codec=") + codec + " count=3 pid=" + pid + " txn=false control=false\n";
  std::string hs = " h1=v1;h2=two;\n";
  return head + "0 " + ts + " 2 " + std::to_string(v0_size) + hs + "1 " + ts + " 0 8" + hs + "2 " + ts + " 2 3000" + hs;
}

struct Case {
  const char* file;
  std::string expected;
};

TEST(ClientBatches, ReadExactlyAsKafkaClientsReadsThem) {
  const std::string py_records =
      "0 1700000000000 2 5 h1=v1;\n1 1700000000001 -1 8 \n2 1700000000002 2 3000 h2=;\n";
  const Case cases[] = {
      {"librdkafka_none.log", librdkafka("none", "0", "1795576742498", 7)},
      {"librdkafka_gzip.log", librdkafka("gzip", "1", "1795576744996", 7)},
      {"librdkafka_snappy.log", librdkafka("snappy", "2", "1795576746203", 9)},
      {"librdkafka_lz4.log", librdkafka("lz4", "3", "1795576747434", 6)},
      {"librdkafka_zstd.log", librdkafka("zstd", "4", "1795576748541", 7)},
      {"python_kafka_none.log", "batch 0 codec=none count=3 pid=-1 txn=false control=false\n" + py_records},
      {"python_kafka_gzip.log", "batch 0 codec=gzip count=3 pid=-1 txn=false control=false\n" + py_records},
  };
  for (const Case& c : cases) {
    auto bytes = read_file(kTestdata / c.file);
    ASSERT_FALSE(bytes.empty()) << c.file;
    EXPECT_EQ(dump_segment(bytes), c.expected) << c.file;
  }
}

TEST(ClientBatches, LibrdkafkaSnappyIsRawNotXerial) {
  auto bytes = read_file(kTestdata / "librdkafka_snappy.log");
  ASSERT_GT(bytes.size(), kBatchHeaderSize);
  EXPECT_NE(bytes[kBatchHeaderSize], 0x82);  // no xerial magic: the raw path was taken
}

}  // namespace
}  // namespace millrace::record
