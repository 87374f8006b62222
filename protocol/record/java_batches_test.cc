// Interop with Apache Kafka's own Java record code (kafka-clients 4.1):
//  1. testdata/java_<codec>.bin were written by kafka-clients' MemoryRecords
//     (testdata/java/regenerate): we must validate and read them exactly, and
//     our builder must reproduce the uncompressed one byte for byte.
//  2. Batches we build with every codec are read back by kafka-clients itself
//     (ensureValid + iterate) when Java and the jars are in the peer cache;
//     skipped otherwise.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "protocol/record/batch_builder.h"
#include "protocol/record/codec.h"
#include "protocol/record/record_reader.h"

namespace millrace::record {
namespace {

namespace fs = std::filesystem;
const fs::path kTestdata = MILLRACE_RECORD_TESTDATA;
const char* kNames[] = {"none", "gzip", "snappy", "lz4", "zstd"};

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Same construction as JavaBatches.bigValue().
std::string big_value() {
  std::string v(100000, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    std::string word = "millrace-" + std::to_string(i / 9 % 1000);
    v[i] = word[i % 9 % word.size()];
  }
  return v;
}

std::vector<uint8_t> build_like_java(Compression c) {
  BatchOptions o;
  o.base_offset = 42;
  o.partition_leader_epoch = 5;
  o.producer_id = 7777;
  o.producer_epoch = 3;
  o.base_sequence = 11;
  o.compression = c;
  BatchBuilder b(o);
  std::string big = big_value();
  b.append(1700000000000, as_bytes("k0"), as_bytes("hello"));
  Header hs[] = {{"h1", as_bytes("v1")}, {"h2", std::nullopt}};
  b.append(1700000000007, std::nullopt, as_bytes(big), hs);
  b.append(1699999999999, as_bytes("k2"), std::nullopt);
  std::vector<uint8_t> out;
  EXPECT_TRUE(b.finish(out).ok());
  return out;
}

class JavaWritten : public ::testing::TestWithParam<int> {};

TEST_P(JavaWritten, ValidatesAndReadsExactly) {
  auto batch = read_file(kTestdata / (std::string("java_") + kNames[GetParam()] + ".bin"));
  ASSERT_FALSE(batch.empty());
  ASSERT_EQ(validate_batch(batch), BatchError::kOk);
  std::vector<uint8_t> scratch;
  RecordReader reader(batch, scratch);
  const BatchHeader& h = reader.header();
  EXPECT_EQ(static_cast<int>(h.compression()), GetParam());
  EXPECT_EQ(h.total_size(), batch.size());
  EXPECT_EQ(h.base_offset, 42);
  EXPECT_EQ(h.partition_leader_epoch, 5);
  EXPECT_EQ(h.producer_id, 7777);
  EXPECT_EQ(h.producer_epoch, 3);
  EXPECT_EQ(h.base_sequence, 11);
  EXPECT_EQ(h.record_count, 3);
  EXPECT_EQ(h.last_offset(), 44);
  EXPECT_EQ(h.base_timestamp, 1700000000000);
  EXPECT_EQ(h.max_timestamp, 1700000000007);
  Record r;
  ASSERT_TRUE(reader.next(r)) << reader.status().detail;
  EXPECT_EQ(as_string(*r.key), "k0");
  EXPECT_EQ(as_string(*r.value), "hello");
  EXPECT_TRUE(r.headers.empty());
  ASSERT_TRUE(reader.next(r)) << reader.status().detail;
  EXPECT_EQ(record_offset(h, r), 43);
  EXPECT_EQ(record_timestamp(h, r), 1700000000007);
  EXPECT_FALSE(r.key.has_value());
  EXPECT_EQ(as_string(*r.value), big_value());
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].key, "h1");
  EXPECT_EQ(as_string(*r.headers[0].value), "v1");
  EXPECT_EQ(r.headers[1].key, "h2");
  EXPECT_FALSE(r.headers[1].value.has_value());
  ASSERT_TRUE(reader.next(r)) << reader.status().detail;
  EXPECT_EQ(record_timestamp(h, r), 1699999999999);
  EXPECT_EQ(as_string(*r.key), "k2");
  EXPECT_FALSE(r.value.has_value());
  EXPECT_FALSE(reader.next(r));
  EXPECT_TRUE(reader.status().ok()) << reader.status().detail;
}

INSTANTIATE_TEST_SUITE_P(Codecs, JavaWritten, ::testing::Range(0, 5),
                         [](const auto& info) { return std::string(kNames[info.param]); });

TEST(JavaWritten, OurUncompressedBatchIsByteIdenticalToJavas) {
  EXPECT_EQ(build_like_java(Compression::kNone), read_file(kTestdata / "java_none.bin"));
}

// Runs `cmd`, returns its stdout; exit status in *rc.
std::string run(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) { *rc = -1; return out; }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  *rc = pclose(p);
  return out;
}

TEST(JavaReads, KafkaClientsReadsEveryCodecWeWrite) {
  const char* home = std::getenv("HOME");
  const char* cache_env = std::getenv("MILLRACE_CACHE");
  fs::path cache = cache_env ? fs::path(cache_env) : fs::path(home ? home : "/") / ".cache/millrace";
  int rc = 0;
  run("command -v javac >/dev/null && find '" + cache.string() + "' -name 'kafka-clients-4.*.jar' | grep -q .", &rc);
  if (rc != 0) GTEST_SKIP() << "javac or kafka-clients jar not in " << cache;

  fs::path dir = fs::temp_directory_path() / ("millrace-java-reads-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string files;
  for (int c = 0; c < 5; ++c) {
    auto batch = build_like_java(static_cast<Compression>(c));
    fs::path f = dir / (std::string(kNames[c]) + ".bin");
    std::ofstream(f, std::ios::binary).write(reinterpret_cast<const char*>(batch.data()),
                                              static_cast<std::streamsize>(batch.size()));
    files += " '" + f.string() + "'";
  }
  std::string out = run("MILLRACE_CACHE='" + cache.string() + "' bash '" + (kTestdata / "java/regenerate").string() +
                            "' read" + files + " 2>/dev/null",
                        &rc);
  fs::remove_all(dir);
  ASSERT_EQ(rc, 0) << out;
  std::string expected;
  const char* java_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  for (int c = 0; c < 5; ++c) {
    expected += std::string("batch 42 codec=") + java_names[c] + " count=3 pid=7777 txn=false control=false\n";
    expected += "42 1700000000000 2 5 \n";
    expected += "43 1700000000007 -1 100000 h1=v1;h2=null;\n";
    expected += "44 1699999999999 2 -1 \n";
  }
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace millrace::record
