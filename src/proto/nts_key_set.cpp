// SPDX-License-Identifier: Apache-2.0
#include "proto/nts_key_set.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "util/strings.hpp"

namespace cloudtime::proto {

namespace {

constexpr std::string_view kMagic = "cloudtime-nts-keys 1";
constexpr std::int64_t kAcceptedPeriods = 2;

bool from_hex(std::string_view text, std::span<std::uint8_t> out) {
    if (text.size() != out.size() * 2) {
        return false;
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        unsigned value = 0;
        const auto [end, ec] =
            std::from_chars(text.data() + 2 * i, text.data() + 2 * i + 2, value, 16);
        if (ec != std::errc{} || end != text.data() + 2 * i + 2) {
            return false;
        }
        out[i] = static_cast<std::uint8_t>(value);
    }
    return true;
}

template <typename T>
bool parse_number(std::string_view text, T& out, int base = 10) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
    return ec == std::errc{} && end == text.data() + text.size();
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    while (!line.empty()) {
        const auto start = line.find_first_not_of(' ');
        if (start == std::string_view::npos) {
            break;
        }
        line.remove_prefix(start);
        const auto end = line.find(' ');
        out.push_back(line.substr(0, end));
        line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    }
    return out;
}

}  // namespace

bool rotation_due(const NtsKeySet& set, std::int64_t now) {
    return set.keys.empty() || now >= set.keys.front().created + set.rotation_s;
}

NtsKeySet rotated(const NtsKeySet& set, const SivKey& fresh, std::int64_t now) {
    NtsKeySet next;
    next.rotation_s = set.rotation_s;
    next.generation = set.generation + 1;
    std::uint32_t id = set.keys.empty() ? 1 : set.keys.front().id + 1;
    const std::size_t kept = std::min(set.keys.size(), kNtsKeysKept - 1);
    const auto in_use = [&](std::uint32_t candidate) {
        return std::any_of(set.keys.begin(), set.keys.begin() + static_cast<std::ptrdiff_t>(kept),
                           [&](const MasterKeyEntry& key) { return key.id == candidate; });
    };
    while (in_use(id)) {
        ++id;  // wrapped around onto a key still kept
    }
    next.keys.push_back({id, fresh, now});
    next.keys.insert(next.keys.end(), set.keys.begin(),
                     set.keys.begin() + static_cast<std::ptrdiff_t>(kept));
    return next;
}

CookieKeyring keyring_at(const NtsKeySet& set, std::int64_t now) {
    std::vector<CookieKey> ring;
    for (std::size_t i = 0; i < set.keys.size(); ++i) {
        // Key i was retired when key i-1 was made.
        if (i > 0 && now >= set.keys[i - 1].created + kAcceptedPeriods * set.rotation_s) {
            break;
        }
        ring.push_back({set.keys[i].id, set.keys[i].key});
    }
    return CookieKeyring(std::move(ring));
}

std::int64_t next_rotation(const NtsKeySet& set, std::int64_t now) {
    if (rotation_due(set, now)) {
        return now;
    }
    return set.keys.front().created + set.rotation_s;
}

std::string encode_key_set(const NtsKeySet& set) {
    std::ostringstream out;
    out << kMagic << '\n'
        << "rotation " << set.rotation_s << '\n'
        << "generation " << set.generation << '\n';
    for (const auto& key : set.keys) {
        out << "key " << key.id << ' ' << key.created << ' ' << to_hex(key.key) << '\n';
    }
    return out.str();
}

Expected<NtsKeySet> decode_key_set(std::string_view text) {
    NtsKeySet set;
    bool rotation_seen = false;
    bool generation_seen = false;
    int line_number = 0;
    const auto fail = [&line_number](const std::string& what) {
        return Error{"line " + std::to_string(line_number) + ": " + what};
    };
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++line_number;
        if (line_number == 1) {
            if (line != kMagic) {
                return fail("not a cloudtime NTS key set (expected \"" + std::string(kMagic) +
                            "\")");
            }
            continue;
        }
        const auto w = words(line);
        if (w.empty()) {
            continue;
        }
        if (w[0] == "rotation" && w.size() == 2 && !rotation_seen &&
            parse_number(w[1], set.rotation_s) && set.rotation_s > 0 &&
            set.rotation_s <= kMaxNtsRotation) {
            rotation_seen = true;
        } else if (w[0] == "generation" && w.size() == 2 && !generation_seen &&
                   parse_number(w[1], set.generation)) {
            generation_seen = true;
        } else if (w[0] == "key" && w.size() == 4) {
            MasterKeyEntry key;
            if (!parse_number(w[1], key.id) || !parse_number(w[2], key.created) ||
                !from_hex(w[3], key.key)) {
                return fail("a key is: key ID CREATED HEX64");
            }
            if (key.created < 0 || key.created > kLatestKeyTime) {
                return fail("a key made at " + std::to_string(key.created) +
                            ", not between 1970 and 9999");
            }
            if (set.keys.size() == kNtsKeysKept) {
                return fail("more than " + std::to_string(kNtsKeysKept) + " keys");
            }
            for (const auto& other : set.keys) {
                if (other.id == key.id) {
                    return fail("key id " + std::to_string(key.id) + " twice");
                }
            }
            set.keys.push_back(key);
        } else {
            return fail("unexpected \"" + std::string(line.substr(0, 40)) + "\"");
        }
    }
    if (line_number == 0) {
        return Error{"empty"};
    }
    if (!rotation_seen || !generation_seen) {
        return Error{"rotation or generation missing"};
    }
    return set;
}

}  // namespace cloudtime::proto
