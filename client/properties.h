// Java client properties for the C++ client: the text of a .properties file
// (what Kafka's tools take as --command-config) read as java.util.Properties
// reads it, and the keys the client knows applied to a ClientConfig.
//
// Syntax (java.util.Properties.load): one key/value a line, separated by the
// first unescaped '=' or ':' or white space; lines starting with '#' or '!' are
// comments; a line ending in an odd number of backslashes continues on the
// next (whose leading white space is dropped); \t \n \r \f \uXXXX and \<char>
// are unescaped. A later key replaces an earlier one.
//
// Applied keys: bootstrap.servers, client.id, request.timeout.ms and every key
// of security_config.h. Other keys are returned as ignored (Java logs "supplied
// but isn't a known config") so the caller can say so; a wrong value of a known
// key is INVALID_CLIENT_CONFIG naming it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "client/cluster.h"
#include "client/result.h"

namespace millrace::client {

using Properties = std::map<std::string, std::string>;

// The key/value pairs of a .properties text. Never fails: Java's loader accepts
// any text (a line without a separator is a key with an empty value).
Properties parse_properties(std::string_view text);

// parse_properties of a file; INVALID_CLIENT_CONFIG naming the file when it
// cannot be read.
Result<Properties> load_properties_file(const std::string& path);

// Applies the known keys to `config`; the ignored keys, in order.
Result<std::vector<std::string>> apply_properties(const Properties& props, ClientConfig& config);

}  // namespace millrace::client
