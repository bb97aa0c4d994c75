// SPDX-License-Identifier: Apache-2.0
// The keys of [rate_limit] and [access]: who is answered, and how often.
#include <array>
#include <map>
#include <utility>

#include "config/config_keys.hpp"

namespace cloudtime::config {

namespace {

Status read_interval(const KeyReading& v, double& out) {
    const auto seconds = v.node.value<double>();
    if (!(v.node.is_floating_point() || v.node.is_integer()) || !seconds || !(*seconds >= 1e-6) ||
        *seconds > 86400.0) {
        return v.fail(v.name() + " must be a number of seconds between 0.000001 and 86400");
    }
    out = *seconds;
    return Done{};
}

Status read_default_action(const KeyReading& v, proto::AccessAction& out) {
    return v.choose(std::array{proto::AccessAction::allow, proto::AccessAction::ignore,
                               proto::AccessAction::deny},
                    out);
}

// One of the lists (allow, ignore, kod): its prefixes replace those listed with `action`.
// Each prefix once across the lists (as the prefix it names: 10.0.0.1/8 is 10.0.0.0/8): a map,
// so that tens of thousands of prefixes are checked in O(n log n).
Status read_access_list(const KeyReading& v, proto::AccessAction action,
                        std::vector<proto::AccessRule>& rules) {
    const std::string name = v.name();
    const toml::array* list = v.node.as_array();
    if (list == nullptr) {
        return v.fail(name + " must be an array of prefixes (\"10.0.0.0/8\")");
    }
    std::erase_if(rules, [action](const proto::AccessRule& r) { return r.action == action; });
    std::map<std::pair<proto::Address16, std::uint8_t>, proto::AccessAction> listed;
    for (const auto& rule : rules) {
        listed.emplace(std::pair{proto::masked_prefix(rule.prefix, rule.length), rule.length},
                       rule.action);
    }
    for (const toml::node& item : *list) {
        const auto text = item.value<std::string>();
        if (!item.is_string() || !text) {
            return v.reader.fail(item.source(), name + " entries must be strings");
        }
        auto cidr = sys::parse_cidr(*text);
        if (!cidr) {
            return v.reader.fail(item.source(), name + ": " + cidr.error());
        }
        const auto [it, added] = listed.emplace(
            std::pair{proto::masked_prefix(cidr->octets, cidr->length), cidr->length}, action);
        if (!added) {
            return v.reader.fail(item.source(), name + ": '" + *text + "' is already listed as " +
                                                    proto::access_action_name(it->second));
        }
        rules.push_back({cidr->octets, cidr->length, action});
    }
    return Done{};
}

const ConfigKey kRateLimitKeys[] = {
    {.name = "enabled",
     .value = "true",
     .type = KeyType::boolean,
     .summary = "per source: IPv4 address, IPv6 prefix",
     .doc = "`false` answers every valid request (benchmarks, labs).",
     .read = [](const KeyReading& v, Config& c) { return v.boolean(c.rate_limit.enabled); }},
    {.name = "interval",
     .value = "2.0",
     .type = KeyType::seconds,
     .lo = 1e-6,
     .hi = 86400,
     .summary = "seconds between requests a source may average",
     .doc = "seconds between requests that a source may average.",
     .read = [](const KeyReading& v,
                Config& c) { return read_interval(v, c.rate_limit.interval_s); }},
    {.name = "burst",
     .value = "16",
     .type = KeyType::integer,
     .lo = 1,
     .hi = 1'000'000,
     .summary = "requests a quiet source may send back to back",
     .doc = "requests a source that was quiet may send back to back (iburst sends 4-8).",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.rate_limit.burst); }},
    {.name = "leak",
     .value = "2",
     .type = KeyType::integer,
     .lo = 0,
     .hi = 16,
     .summary = "over the limit, 1 in 2^leak requests is still answered",
     .doc = "of the requests over the limit, 1 in 2^leak is answered anyway (chrony's `leak`): a "
            "flood that spoofs a real client's address cannot stop it from getting answers. 0 "
            "answers all.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.rate_limit.leak); }},
    {.name = "kod",
     .value = "1",
     .type = KeyType::integer,
     .lo = -1,
     .hi = 16,
     .summary = "of the rest, 1 in 2^kod gets a KoD RATE (-1: never)",
     .doc = "of the limited requests that do not leak, 1 in 2^kod gets a KoD RATE (LI=3, stratum "
            "0, refid RATE: a real client slows down); the others get nothing. `-1`: never send a "
            "KoD. A KoD is never larger than the request. To an NTS client the KoD is "
            "authenticated and carries fresh cookies, as a reply does (RFC 8915 section 5.7: an "
            "NTS client ignores any other); an NTS request over the rate whose cookie does not "
            "verify gets nothing rather than a NAK, which would invite a new key establishment at "
            "that rate (chrony does the same).",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.rate_limit.kod); }},
    {.name = "table_size",
     .value = "65536",
     .type = KeyType::integer,
     .lo = 4,
     .hi = 1 << 26,
     .summary = "sources tracked at once (8 octets each); oldest evicted",
     .doc = "sources tracked at once (rounded up to a power of two).",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.rate_limit.table_entries); }},
    {.name = "ipv6_prefix",
     .value = "64",
     .type = KeyType::integer,
     .lo = 1,
     .hi = 128,
     .summary = "IPv6 sources are limited per prefix of this length",
     .doc = "IPv6 sources are limited per prefix of this length (a host controls its /64).",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.rate_limit.ipv6_prefix); }},
};

const ConfigKey kAccessKeys[] = {
    {.name = "default",
     .value = "\"allow\"",
     .type = KeyType::choice,
     .choices = "allow ignore kod",
     .summary = "for sources no prefix below matches: allow | ignore | kod",
     .doc = "for sources that no prefix matches: `allow`, `ignore` or `kod`.",
     .read = [](const KeyReading& v,
                Config& c) { return read_default_action(v, c.access_default); }},
    {.name = "allow",
     .value = "[]",
     .type = KeyType::other,
     .kind = "array of prefixes (\"10.0.0.0/8\")",
     .summary = "prefixes served, e.g. [\"10.0.0.0/8\", \"fd00::/8\"]",
     .doc = "prefixes served (and rate limited).",
     .read =
         [](const KeyReading& v, Config& c) {
             return read_access_list(v, proto::AccessAction::allow, c.access_rules);
         }},
    {.name = "ignore",
     .value = "[]",
     .type = KeyType::other,
     .kind = "array of prefixes",
     .summary = "prefixes never answered",
     .doc = "prefixes never answered, silently (`dropped.ignored`).",
     .read =
         [](const KeyReading& v, Config& c) {
             return read_access_list(v, proto::AccessAction::ignore, c.access_rules);
         }},
    {.name = "kod",
     .value = "[]",
     .type = KeyType::other,
     .kind = "array of prefixes",
     .summary = "prefixes answered with a KoD DENY (still rate limited)",
     .doc = "prefixes answered with a KoD DENY (LI=3, stratum 0, refid DENY: RFC 5905 clients stop "
            "asking); only valid client requests get one, never larger than the request, and still "
            "subject to rate limiting (`deny_sent`).",
     .read =
         [](const KeyReading& v, Config& c) {
             return read_access_list(v, proto::AccessAction::deny, c.access_rules);
         }},
};

const ConfigSection kAccessSections[] = {
    {.name = "rate_limit", .summary = "", .keys = kRateLimitKeys, .check = nullptr},
    {.name = "access", .summary = "", .keys = kAccessKeys, .check = nullptr},
};

}  // namespace

std::span<const ConfigSection> access_sections() {
    return kAccessSections;
}

}  // namespace cloudtime::config
