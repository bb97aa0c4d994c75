// SPDX-License-Identifier: Apache-2.0
// NTS as Prometheus metrics: key establishments, authenticated replies and NAKs, the cookie
// keys in force and their store (etcd reachable or not).
#pragma once

#include <cstdint>

#include "metrics/exposition.hpp"
#include "nts/nts_runner.hpp"
#include "serve/counters.hpp"

namespace cloudtime::daemon {

// `now_s`: Unix seconds, for the current key's age.
void nts_metrics(metrics::Exposition& e, const NtsRunner& nts, const server::CounterTotals& totals,
                 std::int64_t now_s);

}  // namespace cloudtime::daemon
