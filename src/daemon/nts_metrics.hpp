// NTS as Prometheus metrics: key establishments, authenticated replies and NAKs, the cookie
// keys in force and their store (etcd reachable or not).
#pragma once

#include "daemon/nts_role.hpp"
#include "metrics/exposition.hpp"
#include "server/counters.hpp"

namespace cloudtime::daemon {

void nts_metrics(metrics::Exposition& e, const NtsRole& nts, const server::CounterTotals& totals);

}  // namespace cloudtime::daemon
