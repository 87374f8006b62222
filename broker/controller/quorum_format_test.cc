#include "broker/controller/quorum_format.h"

#include <gtest/gtest.h>

namespace millrace::broker {
namespace {

TEST(QuorumFormat, InitialControllersParseAsKafkaWritesThem) {
  std::vector<InitialController> c;
  ASSERT_EQ(parse_initial_controllers("1@a:9093:-wAAAAAAAAAAAAAAAAAAAQ, 2@[::1]:9094:AAAAAAAAAAAAAAAAAAAAAA", c), "");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], (InitialController{1, "a", 9093, "-wAAAAAAAAAAAAAAAAAAAQ"}));
  EXPECT_EQ(c[1].host, "::1");
  EXPECT_EQ(c[1].port, 9094);
}

TEST(QuorumFormat, EveryBadListIsRefusedNamingWhatIsWrong) {
  std::vector<InitialController> c;
  auto refused = [&](const char* text, const char* why) {
    auto e = parse_initial_controllers(text, c);
    EXPECT_NE(e.find(why), std::string::npos) << text << " -> " << e;
  };
  refused("", "no controller");
  refused("1@a:9093", "id@host:port:directoryId");
  refused("x@a:9093:-wAAAAAAAAAAAAAAAAAAAQ", "the id must be a node id");
  refused("-1@a:9093:-wAAAAAAAAAAAAAAAAAAAQ", "the id must be a node id");
  refused("1@a:0:-wAAAAAAAAAAAAAAAAAAAQ", "port must be 1..65535");
  refused("1@a:70000:-wAAAAAAAAAAAAAAAAAAAQ", "port must be 1..65535");
  refused("1@:9093:-wAAAAAAAAAAAAAAAAAAAQ", "is not host:port");
  refused("1@a:9093:not-a-uuid", "directory id");
  refused("1@a:9093:-wAAAAAAAAAAAAAAAAAAAQ,1@b:9093:AAAAAAAAAAAAAAAAAAAAAA", "listed twice");
}

}  // namespace
}  // namespace millrace::broker
