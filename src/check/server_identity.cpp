// SPDX-License-Identifier: Apache-2.0
#include "check/server_identity.hpp"

#include <cmath>
#include <cstdint>
#include <numeric>
#include <tuple>

namespace cloudtime::check {

namespace {
constexpr double kPhi = 15e-6;               // RFC 5905's dispersion growth per second
constexpr double kShortUnit = 1.0 / 65536;   // one step of the 16.16 root dispersion
constexpr double kNtpFraction = 4294967296;  // 2^32

double seconds_apart(proto::NtpTimestamp a, proto::NtpTimestamp b) {
    const auto difference = static_cast<std::int64_t>(a.raw - b.raw);  // era wrap: modular
    return std::fabs(static_cast<double>(difference) / kNtpFraction);
}

std::size_t find_root(std::vector<std::size_t>& parent, std::size_t i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}
}  // namespace

bool same_server(const proto::Header& a, const proto::Header& b) {
    if (a.stratum != b.stratum || a.refid != b.refid) {
        return false;
    }
    if (a.reference != b.reference) {
        // Its upstream may have updated it between the two answers: then the later answer's
        // reference time lies between them (and its root values are new). Erring this way can
        // only count two servers as one, never one as two.
        const auto& [earlier, later] = static_cast<std::int64_t>(a.receive.raw - b.receive.raw) <= 0
                                           ? std::tie(a, b)
                                           : std::tie(b, a);
        return static_cast<std::int64_t>(later.reference.raw - earlier.receive.raw) > 0 &&
               static_cast<std::int64_t>(later.receive.raw - later.reference.raw) >= 0;
    }
    if (a.root_delay != b.root_delay) {
        return false;
    }
    const double grown = kPhi * seconds_apart(a.receive, b.receive);
    const double difference =
        std::fabs(a.root_dispersion.to_seconds() - b.root_dispersion.to_seconds());
    // Each value is rounded to a 16.16 step: allow one step of rounding on either side.
    return difference <= grown + 2 * kShortUnit;
}

std::vector<std::size_t> group_servers(std::span<const std::vector<proto::Header>> answers) {
    std::vector<std::size_t> parent(answers.size());
    std::iota(parent.begin(), parent.end(), 0);
    for (std::size_t i = 0; i < answers.size(); ++i) {
        for (std::size_t j = i + 1; j < answers.size(); ++j) {
            bool same = false;
            for (const auto& a : answers[i]) {
                for (const auto& b : answers[j]) {
                    same = same || same_server(a, b);
                }
            }
            if (same) {
                parent[find_root(parent, j)] = find_root(parent, i);
            }
        }
    }
    std::vector<std::size_t> group(answers.size());
    for (std::size_t i = 0; i < answers.size(); ++i) {
        group[i] = find_root(parent, i);
    }
    return group;
}

}  // namespace cloudtime::check
