#include "operator/kube_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace millrace::op {
namespace {

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kc-test-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& text) {
    auto p = dir_ / "config";
    std::ofstream(p) << text;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(KubeConfigTest, CurrentContextWithRelativeCertPaths) {
  auto path = write(R"(
apiVersion: v1
kind: Config
current-context: b
clusters:
- {name: ca, cluster: {server: "https://a:1", certificate-authority: /abs/ca.crt}}
- {name: cb, cluster: {server: "https://127.0.0.1:6443", certificate-authority: pki/ca.crt}}
users:
- {name: ub, user: {client-certificate: pki/admin.crt, client-key: pki/admin.key}}
contexts:
- {name: a, context: {cluster: ca, user: ub}}
- {name: b, context: {cluster: cb, user: ub, namespace: kafka}}
)");
  auto r = load_kubeconfig(path, (dir_ / "scratch").string());
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_EQ(r.config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(r.config->ca_file, (dir_ / "pki/ca.crt").string());
  EXPECT_EQ(r.config->client_key_file, (dir_ / "pki/admin.key").string());
  EXPECT_EQ(r.config->namespace_, "kafka");
}

TEST_F(KubeConfigTest, InlineDataIsDecodedToFilesAndTokenKept) {
  auto path = write(R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority-data: "aGVsbG8="}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  auto r = load_kubeconfig(path, (dir_ / "scratch").string());
  ASSERT_TRUE(r.config) << r.error;
  std::ifstream in(r.config->ca_file);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "hello");
  EXPECT_EQ(r.config->token, "abc");
  EXPECT_EQ(r.config->namespace_, "default");
}

TEST_F(KubeConfigTest, MissingContextIsAnErrorValueNamingIt) {
  auto r = load_kubeconfig(write("current-context: nope\ncontexts: []\n"), (dir_ / "s").string());
  EXPECT_FALSE(r.config);
  EXPECT_NE(r.error.find("nope"), std::string::npos);
}

TEST_F(KubeConfigTest, UnreadableFileIsAnErrorValue) {
  auto r = load_kubeconfig((dir_ / "absent").string(), (dir_ / "s").string());
  EXPECT_FALSE(r.config);
  EXPECT_FALSE(r.error.empty());
}

TEST(InCluster, OutsideAPodSaysSo) {
  unsetenv("KUBERNETES_SERVICE_HOST");
  auto r = load_in_cluster("/nonexistent");
  EXPECT_FALSE(r.config);
  EXPECT_NE(r.error.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

}  // namespace
}  // namespace millrace::op
