#include "broker/config/config.h"

#include <gtest/gtest.h>

#include <cstring>

namespace millrace::broker {
namespace {

const char* no_env(const char*) { return nullptr; }

const char* fake_env(const char* name) {
  if (std::strcmp(name, "MILLRACE_LOG_DIRS") == 0) return "/from/env";
  if (std::strcmp(name, "MILLRACE_NUM_PARTITIONS") == 0) return "4";
  return nullptr;
}

bool any_error_contains(const ConfigLoad& l, std::string_view needle) {
  for (const auto& e : l.errors)
    if (e.find(needle) != std::string::npos) return true;
  return false;
}

TEST(ConfigTest, DefaultsApplyWithNoInput) {
  auto l = load_config("", "", {}, no_env);
  ASSERT_TRUE(l.config) << l.errors.front();
  EXPECT_EQ(l.config->integer("num.partitions"), 1);
  EXPECT_TRUE(l.config->boolean("auto.create.topics.enable"));
  ASSERT_EQ(l.config->listeners().size(), 1u);
  EXPECT_EQ(l.config->listeners()[0].port, 9092);
}

TEST(ConfigTest, YamlValuesOverrideDefaults) {
  auto l = load_config("num.partitions: 3\nlog.dirs: [/a, /b]\n", "f.yaml", {}, no_env);
  ASSERT_TRUE(l.config);
  EXPECT_EQ(l.config->integer("num.partitions"), 3);
  EXPECT_EQ(l.config->list("log.dirs"), (std::vector<std::string>{"/a", "/b"}));
}

TEST(ConfigTest, UnknownKeyIsNamed) {
  auto l = load_config("num.partition: 3\n", "f.yaml", {}, no_env);
  EXPECT_FALSE(l.config);
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_TRUE(any_error_contains(l, "unknown config key 'num.partition'"));
  EXPECT_TRUE(any_error_contains(l, "f.yaml"));
}

TEST(ConfigTest, BadIntegerNamesKeyAndRange) {
  auto l = load_config("", "", {"num.partitions=0"}, no_env);
  EXPECT_FALSE(l.config);
  EXPECT_TRUE(any_error_contains(l, "'num.partitions'"));
  EXPECT_TRUE(any_error_contains(l, "allowed 1..100000"));
}

TEST(ConfigTest, NonNumberIsRefused) {
  auto l = load_config("log.retention.ms: soon\n", "f.yaml", {}, no_env);
  EXPECT_FALSE(l.config);
  EXPECT_TRUE(any_error_contains(l, "is not an integer"));
}

TEST(ConfigTest, BadBooleanListsAllowedValues) {
  auto l = load_config("", "", {"auto.create.topics.enable=yes"}, no_env);
  EXPECT_FALSE(l.config);
  EXPECT_TRUE(any_error_contains(l, "allowed true, false"));
}

TEST(ConfigTest, EnumValueOutsideSetIsRefused) {
  auto l = load_config("log.cleanup.policy: shred\n", "f.yaml", {}, no_env);
  EXPECT_FALSE(l.config);
  EXPECT_TRUE(any_error_contains(l, "allowed delete, compact, compact,delete"));
  auto ok = load_config("log.cleanup.policy: compact,delete\n", "f.yaml", {}, no_env);
  EXPECT_TRUE(ok.config);
}

TEST(ConfigTest, BadListenerIsExplained) {
  auto l = load_config("", "", {"listeners=127.0.0.1:9092"}, no_env);
  EXPECT_FALSE(l.config);
  EXPECT_TRUE(any_error_contains(l, "NAME://host:port"));
  auto port = load_config("", "", {"listeners=PLAINTEXT://127.0.0.1:99999"}, no_env);
  EXPECT_FALSE(port.config);
  EXPECT_TRUE(any_error_contains(port, "not a port number"));
  auto name = load_config("", "", {"listeners=PLAIN-TEXT://127.0.0.1:9093"}, no_env);
  EXPECT_FALSE(name.config);
  EXPECT_TRUE(any_error_contains(name, "listener name 'PLAIN-TEXT'"));
  // Names are checked with the roles (node_roles.h): an SSL listener is refused there.
}

TEST(ConfigTest, PrecedenceIsFileThenEnvThenSet) {
  auto l = load_config("log.dirs: /from/file\nnum.partitions: 2\n", "f.yaml", {"num.partitions=7"}, fake_env);
  ASSERT_TRUE(l.config);
  EXPECT_EQ(l.config->list("log.dirs"), (std::vector<std::string>{"/from/env"}));
  EXPECT_EQ(l.config->integer("num.partitions"), 7);
}

TEST(ConfigTest, SetWithoutEqualsIsRefused) {
  auto l = load_config("", "", {"num.partitions"}, no_env);
  EXPECT_FALSE(l.config);
  EXPECT_TRUE(any_error_contains(l, "expected key=value"));
}

TEST(ConfigTest, MalformedYamlIsAnErrorNotACrash) {
  auto l = load_config("a: [1, 2\n", "f.yaml", {}, no_env);
  EXPECT_FALSE(l.config);
  EXPECT_TRUE(any_error_contains(l, "not valid YAML"));
  auto scalar = load_config("just a string\n", "f.yaml", {}, no_env);
  EXPECT_FALSE(scalar.config);
}

TEST(ConfigTest, AllErrorsAreReportedAtOnce) {
  auto l = load_config("bogus: 1\nnum.partitions: -1\n", "f.yaml", {"listeners=nope"}, no_env);
  EXPECT_EQ(l.errors.size(), 3u);
}

TEST(ConfigTest, EnvVarNameUppercasesAndReplacesDots) {
  EXPECT_EQ(env_var_name("log.dirs"), "MILLRACE_LOG_DIRS");
  EXPECT_EQ(env_var_name("group.initial.rebalance.delay.ms"), "MILLRACE_GROUP_INITIAL_REBALANCE_DELAY_MS");
}

TEST(ConfigTest, EveryDefaultPassesItsOwnValidator) {
  for (const auto& k : config_schema())
    EXPECT_FALSE(check_value(k, k.default_value)) << k.name;
}

TEST(ConfigTest, DocsListEveryKey) {
  auto docs = config_docs_markdown();
  for (const auto& k : config_schema()) EXPECT_NE(docs.find(std::string(k.name)), std::string::npos);
}

// queued.max.requests bounds a queue Millrace does not have: a non-default
// value is refused, naming the key and what to use instead.
TEST(ConfigTest, QueuedMaxRequestsOffItsDefaultIsRefused) {
  auto l = load_config("", "", {"queued.max.requests=100"}, no_env);
  EXPECT_FALSE(l.config);
  EXPECT_TRUE(any_error_contains(l, "queued.max.requests cannot be set"));
  EXPECT_TRUE(any_error_contains(l, "queued.max.request.bytes"));
  EXPECT_TRUE(load_config("", "", {"queued.max.requests=500"}, no_env).config);
}

// replica.selector.class takes Kafka's class names: empty (leader only, the
// default) or the rack-aware selector; anything else is refused at startup,
// naming the key.
TEST(ConfigTest, ReplicaSelectorIsLeaderOnlyOrRackAware) {
  auto d = load_config("", "", {}, no_env);
  ASSERT_TRUE(d.config);
  EXPECT_EQ(d.config->string("replica.selector.class"), "");
  auto rack = load_config("", "", {"replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector"},
                          no_env);
  ASSERT_TRUE(rack.config);
  EXPECT_EQ(rack.config->string("replica.selector.class"), kRackAwareReplicaSelector);
  auto bad = load_config("replica.selector.class: com.example.NearestSelector\n", "f.yaml", {}, no_env);
  EXPECT_FALSE(bad.config);
  EXPECT_TRUE(any_error_contains(bad, "'replica.selector.class'"));
  EXPECT_TRUE(any_error_contains(bad, "com.example.NearestSelector"));
  EXPECT_TRUE(any_error_contains(bad, "RackAwareReplicaSelector"));
}

TEST(ConfigTest, RequestBudgetAndConnectionLimits) {
  auto l = load_config("", "", {"queued.max.request.bytes=-1", "max.connections=10",
                                "max.connections.per.ip.overrides=10.0.0.7:200, 0:0:0:0:0:0:0:1:5"}, no_env);
  ASSERT_TRUE(l.config) << l.errors.front();
  EXPECT_EQ(l.config->integer("queued.max.request.bytes"), -1);
  EXPECT_EQ(l.config->integer("max.connections"), 10);
  auto o = parse_connection_overrides(l.config->string("max.connections.per.ip.overrides"));
  ASSERT_TRUE(o);
  EXPECT_EQ((*o)["10.0.0.7"], 200);
  EXPECT_EQ((*o)["::1"], 5);  // canonical, as the server prints a peer
  EXPECT_FALSE(load_config("", "", {"queued.max.request.bytes=0"}, no_env).config);
  EXPECT_FALSE(load_config("", "", {"max.connections.per.ip.overrides=host.example:3"}, no_env).config);
  EXPECT_FALSE(load_config("", "", {"max.connections.per.ip.overrides=10.0.0.7:x"}, no_env).config);
}


namespace {
std::optional<std::string> fake_files(const std::string& path) {
  if (path == "/ids/demo-0") return std::string("7\n");
  if (path == "/ids/blank") return std::string(" \n");
  return std::nullopt;
}
}  // namespace

TEST(ConfigTest, SetFromFileReadsTrimmedValueWithSetPrecedence) {
  std::vector<std::string> sets = {"node.id=3"};
  auto errors = resolve_set_files({"node.id=/ids/demo-0"}, fake_files, sets);
  ASSERT_TRUE(errors.empty());
  auto l = load_config("node.id: 1\n", "f.yaml", sets, no_env);
  ASSERT_TRUE(l.config);
  EXPECT_EQ(l.config->integer("node.id"), 7);  // the later --set wins, the newline is gone
}

TEST(ConfigTest, SetFromFileNamesMissingEmptyAndMalformedArguments) {
  std::vector<std::string> sets;
  auto errors = resolve_set_files({"node.id=/ids/none", "node.id=/ids/blank", "node.id", "=/ids/demo-0"}, fake_files,
                                  sets);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_NE(errors[0].find("cannot read /ids/none"), std::string::npos);
  EXPECT_NE(errors[1].find("/ids/blank is empty"), std::string::npos);
  EXPECT_NE(errors[2].find("expected key=PATH"), std::string::npos);
  EXPECT_NE(errors[3].find("expected key=PATH"), std::string::npos);
  EXPECT_TRUE(sets.empty());
}

TEST(ConfigTest, SetFromFileValueIsCheckedLikeSet) {
  std::vector<std::string> sets;
  ASSERT_TRUE(resolve_set_files({"node.id=/ids/demo-0"}, [](const std::string&) -> std::optional<std::string> {
                return std::string("seven");
              }, sets).empty());
  auto l = load_config("", "", sets, no_env);
  EXPECT_FALSE(l.config);
  ASSERT_FALSE(l.errors.empty());
  EXPECT_NE(l.errors[0].find("node.id"), std::string::npos);
}

}  // namespace
}  // namespace millrace::broker
