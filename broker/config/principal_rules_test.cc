#include "broker/config/principal_rules.h"

#include <gtest/gtest.h>

namespace millrace::broker {
namespace {

std::optional<std::string> map(std::string_view rules, const std::string& subject) {
  auto p = parse_principal_rules(rules);
  EXPECT_TRUE(p.error.empty()) << p.error;
  return map_principal(p.rules, subject);
}

// Kafka's examples (SslPrincipalMapper), as its docs give them.
TEST(PrincipalRules, KafkasRulesFirstMatchWins) {
  EXPECT_EQ(map("DEFAULT", "CN=alice,OU=apps,O=Example"), "CN=alice,OU=apps,O=Example");
  const char* rules = "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,"
                      "RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U,DEFAULT";
  EXPECT_EQ(map(rules, "CN=kafka-producer,OU=ServiceUsers,O=Example"), "kafka-producer");
  EXPECT_EQ(map(rules, "CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Palo Alto,ST=CA,C=US"), "duke@javasoft");
  EXPECT_EQ(map(rules, "cn=duke,ou=javasoft,dc=sun,dc=com"), "DUKE@JAVASOFT");
  EXPECT_EQ(map(rules, "CN=other"), "CN=other");
  EXPECT_EQ(map("RULE:^CN=(.*)$/$1/", "O=nobody"), std::nullopt) << "no rule applies";
  EXPECT_EQ(map("RULE:^CN=(.*?)\\/x$/$1/", "CN=a/x"), "a") << "an escaped slash in the pattern";
}

TEST(PrincipalRules, MalformedRulesAreRefusedSayingWhy) {
  EXPECT_FALSE(parse_principal_rules("").error.empty());
  EXPECT_FALSE(parse_principal_rules("RULE:^CN=(.*)$").error.empty());
  EXPECT_FALSE(parse_principal_rules("RULE:^CN=((.*)$/$1/").error.empty());
  EXPECT_FALSE(parse_principal_rules("SOMETHING").error.empty());
  EXPECT_FALSE(parse_principal_rules("DEFAULT DEFAULT").error.empty());
}

}  // namespace
}  // namespace millrace::broker
