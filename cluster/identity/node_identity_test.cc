#include "cluster/identity/node_identity.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace millrace::cluster {
namespace {

namespace fs = std::filesystem;

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("millrace-identity-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string read_file() {
    std::ifstream in(dir_ / kIdentityFile);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write_file(const std::string& text) { std::ofstream(dir_ / kIdentityFile, std::ios::trunc) << text; }
  fs::path dir_;
};

TEST_F(IdentityTest, EncodeParseRoundTrip) {
  DirectoryIdentity id{.version = 1, .cluster_id = "abc-DEF_123", .node_id = 7, .directory_id = new_directory_id()};
  DirectoryIdentity back;
  ASSERT_EQ(parse_identity(encode_identity(id), back), "");
  EXPECT_EQ(back, id);
}

TEST_F(IdentityTest, DirectoryIdsAreKafkaShapedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto d = new_directory_id();
    ASSERT_EQ(d.size(), 22u) << d;  // 16 bytes base64url, no padding (Kafka's Uuid.toString)
    for (char c : d) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << d;
    seen.insert(d);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST_F(IdentityTest, DirectoryIdsDecodeToTheirSixteenBytesAndBack) {
  for (int i = 0; i < 50; ++i) {
    auto text = new_directory_id();
    auto bytes = decode_directory_id(text);
    ASSERT_TRUE(bytes) << text;
    EXPECT_EQ(encode_directory_id(*bytes), text);
  }
  std::array<uint8_t, 16> known{};
  known[0] = 0xfb;
  known[15] = 0x01;
  EXPECT_EQ(encode_directory_id(known), "-wAAAAAAAAAAAAAAAAAAAQ");  // Kafka's Uuid.toString of the same bytes
  EXPECT_FALSE(decode_directory_id("short"));
  EXPECT_FALSE(decode_directory_id("-wAAAAAAAAAAAAAAAAAAA!"));  // not base64url
  EXPECT_FALSE(decode_directory_id("-wAAAAAAAAAAAAAAAAAAAR"));  // low bits set: a second spelling
}

TEST_F(IdentityTest, FreshDirectoryGetsANewIdentityAndKeepsIt) {
  auto first = ensure_identity(dir_, "cluster-a", 3);
  ASSERT_EQ(first.error, "");
  EXPECT_EQ(first.origin, IdentityOrigin::kCreated);
  EXPECT_EQ(first.identity.node_id, 3);
  EXPECT_EQ(first.identity.cluster_id, "cluster-a");
  auto again = ensure_identity(dir_, "cluster-a", 3);
  ASSERT_EQ(again.error, "");
  EXPECT_EQ(again.origin, IdentityOrigin::kExisting);
  EXPECT_EQ(again.identity, first.identity);  // same directory id across restarts
}

TEST_F(IdentityTest, AnotherClusterIsRefused) {
  ASSERT_EQ(ensure_identity(dir_, "cluster-a", 3).error, "");
  auto r = ensure_identity(dir_, "cluster-b", 3);
  EXPECT_NE(r.error.find("belongs to cluster.id cluster-a"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("cluster-b"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(dir_.string()), std::string::npos) << r.error;
}

TEST_F(IdentityTest, AnotherNodeIsRefused) {
  ASSERT_EQ(ensure_identity(dir_, "cluster-a", 3).error, "");
  auto r = ensure_identity(dir_, "cluster-a", 4);
  EXPECT_NE(r.error.find("belongs to node.id 3"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("node.id 4"), std::string::npos) << r.error;
}

TEST_F(IdentityTest, WipedVolumeIsANewDirectory) {
  auto first = ensure_identity(dir_, "cluster-a", 3);
  ASSERT_EQ(first.error, "");
  fs::remove_all(dir_);
  auto second = ensure_identity(dir_, "cluster-a", 3);
  ASSERT_EQ(second.error, "");
  EXPECT_EQ(second.origin, IdentityOrigin::kCreated);
  EXPECT_NE(second.identity.directory_id, first.identity.directory_id);
}

TEST_F(IdentityTest, DataFromBeforeIdentityFilesIsAdoptedOnce) {
  fs::create_directories(dir_ / "orders-0");
  std::ofstream(dir_ / "topics.json") << "{}";
  auto r = ensure_identity(dir_, "cluster-a", 1);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.origin, IdentityOrigin::kAdopted);
  EXPECT_EQ(ensure_identity(dir_, "cluster-a", 1).origin, IdentityOrigin::kExisting);
}

TEST_F(IdentityTest, DamagedFilesAreRefusedNeverGuessed) {
  ASSERT_EQ(ensure_identity(dir_, "cluster-a", 3).error, "");
  const std::string good = read_file();

  auto refused = [&](const std::string& text, const std::string& why) {
    write_file(text);
    auto r = ensure_identity(dir_, "cluster-a", 3);
    EXPECT_NE(r.error.find("is damaged"), std::string::npos) << why << ": " << r.error;
    EXPECT_NE(r.error.find(why), std::string::npos) << r.error;
  };
  // One flipped digit of the node id: the checksum catches it.
  std::string flipped = good;
  flipped[flipped.find("node.id=3") + 8] = '4';
  refused(flipped, "checksum mismatch");
  refused(good.substr(0, good.size() / 2), "no crc32c line");  // truncated
  refused("", "no crc32c line");

  // Well-formed checksums over bad contents.
  DirectoryIdentity no_dir{.version = 1, .cluster_id = "cluster-a", .node_id = 3, .directory_id = ""};
  refused(encode_identity(no_dir), "missing directory.id");
  DirectoryIdentity v2{.version = 2, .cluster_id = "cluster-a", .node_id = 3, .directory_id = "abc"};
  refused(encode_identity(v2), "unsupported version 2");

  write_file(good);  // restored: starts again
  EXPECT_EQ(ensure_identity(dir_, "cluster-a", 3).error, "");
}

}  // namespace
}  // namespace millrace::cluster
