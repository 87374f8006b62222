// What a listener's connections need of its security at run time: the
// protocol, the TLS context (SSL, SASL_SSL) and the SASL settings (SASL_*),
// made once at start from listener_security.h's parse.
#pragma once

#include <memory>
#include <string>

#include "broker/config/listener_security.h"
#include "broker/server/tls_context.h"

namespace millrace::broker {

struct ListenerRuntime {
  std::string name;  // PLAINTEXT, SSL, EXTERNAL, ...
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  std::shared_ptr<TlsContext> tls;  // when uses_tls(protocol)
  SaslSettings sasl;                // when uses_sasl(protocol)
};

}  // namespace millrace::broker
