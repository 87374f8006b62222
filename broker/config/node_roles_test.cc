#include "broker/config/node_roles.h"

#include <gtest/gtest.h>

namespace millrace::broker {
namespace {

const char* no_env(const char*) { return nullptr; }

NodeRolesParse roles_of(const std::vector<std::string>& sets, std::string yaml = "") {
  auto l = load_config(yaml, "f.yaml", sets, no_env);
  EXPECT_TRUE(l.config) << (l.errors.empty() ? "" : l.errors[0]);
  if (!l.config) return {};
  return parse_node_roles(*l.config);
}

bool has_error(const NodeRolesParse& p, std::string_view text) {
  for (const auto& e : p.errors)
    if (e.find(text) != std::string::npos) return true;
  return false;
}

TEST(NodeRoles, DefaultIsOneNodeBothRolesItsOwnOnlyVoter) {
  auto p = roles_of({"node.id=3"});
  ASSERT_TRUE(p.ok()) << p.errors[0];
  EXPECT_TRUE(p.roles.broker);
  EXPECT_TRUE(p.roles.controller);
  ASSERT_EQ(p.roles.voters.size(), 1u);
  EXPECT_EQ(p.roles.voters[0], (QuorumVoter{3, "", 0}));
  EXPECT_EQ(p.roles.controller_listener_names, (std::vector<std::string>{"CONTROLLER"}));
}

TEST(NodeRoles, KafkasServerPropertiesKeysAreReadFromYaml) {
  auto p = roles_of({}, "node.id: 1\nprocess.roles: [broker, controller]\ncontroller.quorum.voters: 1@localhost:9093\n"
                        "controller.listener.names: CONTROLLER\ninter.broker.listener.name: PLAINTEXT\n");
  ASSERT_TRUE(p.ok()) << p.errors[0];
  ASSERT_EQ(p.roles.voters.size(), 1u);
  EXPECT_EQ(p.roles.voters[0], (QuorumVoter{1, "localhost", 9093}));
}

TEST(NodeRoles, InconsistentKeysAreNamed) {
  EXPECT_TRUE(has_error(roles_of({"node.id=2", "controller.quorum.voters=1@a:9093"}),
                        "node.id 2 is not in controller.quorum.voters"));
  EXPECT_TRUE(has_error(roles_of({"node.id=1", "controller.quorum.voters=1@a:9093",
                                  "controller.quorum.bootstrap.servers=a:9093"}),
                        "are both set"));
  EXPECT_TRUE(has_error(roles_of({"process.roles=broker"}), "set controller.quorum.voters or"));
  EXPECT_TRUE(has_error(roles_of({"node.id=1", "process.roles=broker", "controller.quorum.voters=1@a:9093"}),
                        "does not contain controller"));
  EXPECT_TRUE(has_error(roles_of({"controller.listener.names="}), "controller.listener.names must name"));
}

TEST(NodeRoles, AQuorumOfOtherVotersNeedsAControllerListener) {
  auto three = "controller.quorum.voters=1@a:9093,2@b:9093,3@c:9093";
  EXPECT_TRUE(has_error(roles_of({"node.id=1", three}), "must include this node's controller listener"));
  auto p = roles_of({"node.id=1", three, "listeners=PLAINTEXT://:9092,CONTROLLER://:9093"});
  EXPECT_TRUE(p.ok()) << (p.errors.empty() ? "" : p.errors[0]);
  EXPECT_EQ(p.roles.voters.size(), 3u);
  EXPECT_TRUE(roles_of({"node.id=1", "controller.quorum.voters=1@a:9093"}).ok());
}

TEST(NodeRoles, AControllerWithBootstrapServersBelongsToADynamicQuorum) {
  // Its voters are its log's (KIP-853): none listed here, and it needs its controller listener.
  EXPECT_TRUE(has_error(roles_of({"node.id=1", "controller.quorum.bootstrap.servers=a:9093"}),
                        "must include one"));
  auto d = roles_of({"node.id=1", "controller.quorum.bootstrap.servers=a:9093,b:9093",
                     "listeners=PLAINTEXT://:9092,CONTROLLER://:9093"});
  EXPECT_TRUE(d.ok()) << (d.errors.empty() ? "" : d.errors[0]);
  EXPECT_TRUE(d.roles.dynamic_quorum);
  EXPECT_TRUE(d.roles.voters.empty());
  EXPECT_FALSE(roles_of({"node.id=1"}).roles.dynamic_quorum);  // `make run`: one static voter
  EXPECT_FALSE(roles_of({"node.id=4", "process.roles=broker", "controller.quorum.bootstrap.servers=a:9093"})
                   .roles.dynamic_quorum);  // a broker-only node is no voter
}

TEST(NodeRoles, NodesWithOneRole) {
  // A broker-only node: an observer of the voters it lists, itself not one.
  auto b = roles_of({"node.id=4", "process.roles=broker", "controller.quorum.voters=1@a:9093,2@b:9093,3@c:9093"});
  EXPECT_TRUE(b.ok()) << (b.errors.empty() ? "" : b.errors[0]);
  EXPECT_TRUE(b.roles.broker);
  EXPECT_FALSE(b.roles.controller);
  EXPECT_EQ(b.roles.voters.size(), 3u);
  auto bs = roles_of({"node.id=4", "process.roles=broker", "controller.quorum.bootstrap.servers=a:9093,b:9093"});
  EXPECT_TRUE(bs.ok()) << (bs.errors.empty() ? "" : bs.errors[0]);
  EXPECT_EQ(bs.roles.bootstrap_servers.size(), 2u);
  EXPECT_TRUE(bs.roles.voters.empty());
  // A controller-only node: its controller listener and nothing else.
  auto c = roles_of({"node.id=1", "process.roles=controller", "controller.quorum.voters=1@a:9093,2@b:9093",
                     "listeners=CONTROLLER://:9093"});
  EXPECT_TRUE(c.ok()) << (c.errors.empty() ? "" : c.errors[0]);
  EXPECT_FALSE(c.roles.broker);
  EXPECT_TRUE(has_error(roles_of({"node.id=1", "process.roles=controller", "controller.quorum.voters=1@a:9093",
                                  "listeners=PLAINTEXT://:9092,CONTROLLER://:9093"}),
                        "may only hold controller listeners"));
  EXPECT_TRUE(has_error(roles_of({"node.id=1", "process.roles=controller", "listeners=PLAINTEXT://:9092"}),
                        "controller only: listeners must include this node's controller listener"));
}

TEST(NodeRoles, BadSyntaxIsRefusedAtLoadNamingTheKey) {
  auto refused = [](const std::string& set) {
    auto l = load_config("", "", {set}, no_env);
    return l.config ? std::string() : l.errors.at(0);
  };
  EXPECT_NE(refused("process.roles=worker").find("process.roles"), std::string::npos);
  EXPECT_NE(refused("process.roles=broker,broker").find("listed twice"), std::string::npos);
  EXPECT_NE(refused("controller.quorum.voters=x@a:9093").find("controller.quorum.voters"), std::string::npos);
  EXPECT_NE(refused("controller.quorum.voters=1@a:0").find("port must be 1..65535"), std::string::npos);
  EXPECT_NE(refused("controller.quorum.voters=1@a:9093,1@b:9093").find("listed twice"), std::string::npos);
  EXPECT_NE(refused("controller.quorum.bootstrap.servers=nohost").find("host:port"), std::string::npos);
}

}  // namespace
}  // namespace millrace::broker
