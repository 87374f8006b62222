// Kafka's sasl.jaas.config text, as Java's JaasConfig reads it: one or more
// login module entries, each `<class> <flag> [key=value ...];`, where flag is
// required, requisite, sufficient or optional and a value is a word or a
// double-quoted string (\" and \\ escape inside quotes). E.g.
//   org.apache.kafka.common.security.scram.ScramLoginModule required
//     username="alice" password="alice-secret";
// Read by the client (its sasl.jaas.config: client/security_config.h) and the
// broker (a listener's PLAIN users, user_<name>="..."). Pure; errors are values
// naming what is wrong (never the values themselves, which may be passwords).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "security/sasl/error.h"

namespace millrace::security::sasl {

struct JaasModule {
  std::string login_module;  // the class name
  std::string flag;          // required | requisite | sufficient | optional
  std::map<std::string, std::string> options;
};

// kMalformed, naming the position, when the text is not a JAAS configuration
// (no module, no flag, a bad option, no closing quote, no ';').
Result<std::vector<JaasModule>> parse_jaas(std::string_view text);

// Kafka's login modules for the mechanisms Millrace serves.
inline constexpr std::string_view kPlainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule";
inline constexpr std::string_view kScramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule";

}  // namespace millrace::security::sasl
