// SPDX-License-Identifier: Apache-2.0
// The cookie master keys of one server or a whole fleet, with their rotation: the current key
// makes cookies for one rotation period, then two previous keys are still accepted for two
// periods each after they were retired. Whoever finds a rotation due makes the next set (the
// store decides who wins); every holder derives the same key ring from the same set. Pure:
// fresh keys and the time are passed in. The text form is what the file and etcd hold.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/nts_cookie.hpp"
#include "util/expected.hpp"

namespace cloudtime::proto {

inline constexpr std::size_t kNtsKeysKept = 3;  // the current one and two previous
// What a key set may say, so that its times add up without overflow: a rotation of at most a
// year, keys made between 1970 and the end of 9999 (Unix seconds).
inline constexpr std::int64_t kMaxNtsRotation = 365 * 86'400LL;
inline constexpr std::int64_t kLatestKeyTime = 253'402'300'799;

struct MasterKeyEntry {
    std::uint32_t id = 0;
    SivKey key{};
    std::int64_t created = 0;  // Unix seconds
    friend bool operator==(const MasterKeyEntry&, const MasterKeyEntry&) = default;
};

struct NtsKeySet {
    std::vector<MasterKeyEntry> keys;  // newest first
    std::int64_t rotation_s = 86400;
    std::uint64_t generation = 0;  // one more at each rotation
    friend bool operator==(const NtsKeySet&, const NtsKeySet&) = default;
};

// Whether a new current key is due at `now`: none yet, or the current one has served its
// period. A current key from the future (the clock was stepped back) is kept.
bool rotation_due(const NtsKeySet& set, std::int64_t now);

// The set after a rotation at `now` (at most kLatestKeyTime) with the fresh key: it comes
// first with the next id not in use (after 2^32 - 1 comes 0), the oldest beyond kNtsKeysKept
// goes.
NtsKeySet rotated(const NtsKeySet& set, const SivKey& fresh, std::int64_t now);

// The keys cookies may be made and opened with at `now`: the current one always (it serves
// on while no rotation can be made), previous ones until two periods after they were retired.
CookieKeyring keyring_at(const NtsKeySet& set, std::int64_t now);

// When the next rotation is due (Unix seconds), or `now` when it already is.
std::int64_t next_rotation(const NtsKeySet& set, std::int64_t now);

// The text form: a header line, then one line per key. It holds secrets: whoever writes it
// keeps it private (a 0600 file, an etcd key readable by the servers only).
std::string encode_key_set(const NtsKeySet& set);
Expected<NtsKeySet> decode_key_set(std::string_view text);

}  // namespace cloudtime::proto
