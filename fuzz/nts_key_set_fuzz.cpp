// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the NTS cookie keys' text form (proto/nts_key_set), a trust boundary: it
// is read from `key_file` and from etcd, which another server of the fleet (or whoever can
// write there) wrote. The first 8 octets are a time, the rest the text. A set that decodes
// encodes to text that decodes to the same set; at any time the ring holds the current key
// first and only keys of the set; the next rotation is never in the past; a rotation keeps
// at most three keys with distinct ids and decodes back from its text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/nts_key_set.hpp"

namespace p = cloudtime::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 8) {
        return 0;
    }
    std::uint64_t raw = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        raw = (raw << 8U) | data[i];
    }
    // The system clock's reading, as the daemon passes it: 1970 to 9999.
    const auto now = static_cast<std::int64_t>(raw % (p::kLatestKeyTime + 1));
    const std::string_view text(reinterpret_cast<const char*>(data) + 8, size - 8);
    const auto set = p::decode_key_set(text);
    if (!set) {
        return 0;
    }
    const auto again = p::decode_key_set(p::encode_key_set(*set));
    if (!again || *again != *set) {
        std::abort();
    }
    const p::CookieKeyring ring = p::keyring_at(*set, now);
    if (!set->keys.empty() && (ring.empty() || ring.current().id != set->keys.front().id)) {
        std::abort();
    }
    if (p::next_rotation(*set, now) < now) {
        std::abort();
    }
    const p::NtsKeySet next = p::rotated(*set, p::SivKey{9}, now);
    const auto next_again = p::decode_key_set(p::encode_key_set(next));
    if (next.keys.size() > p::kNtsKeysKept || !next_again || *next_again != next ||
        p::keyring_at(next, now).current().id != next.keys.front().id) {
        std::abort();
    }
    return 0;
}
