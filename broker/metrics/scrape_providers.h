// Metrics computed at scrape time from the domains: partition offsets and
// sizes, partition states, consumer group lag and members, log dir usage.
#pragma once

#include "broker/kafka/broker_state.h"

namespace millrace::broker {

void register_scrape_providers(BrokerState& broker);

}  // namespace millrace::broker
