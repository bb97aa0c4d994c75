// SPDX-License-Identifier: Apache-2.0
// splitmix64's finalizer: every input bit reaches every output bit. The tables that workers
// share (rate limiter, interleaved records) hash their keys with it, keyed by a random seed.
#pragma once

#include <cstdint>

namespace cloudtime::proto {

constexpr std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30U;
    x *= 0xBF58'476D'1CE4'E5B9ULL;
    x ^= x >> 27U;
    x *= 0x94D0'49BB'1331'11EBULL;
    x ^= x >> 31U;
    return x;
}

}  // namespace cloudtime::proto
