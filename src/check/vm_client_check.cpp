// SPDX-License-Identifier: Apache-2.0
#include "check/vm_client_check.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "check/chrony_view.hpp"
#include "util/strings.hpp"

namespace cloudtime::check {

namespace {
std::string source_text(const proto::ChronySource& s) {
    return std::string(source_state_name(s.state)) + " ('" + source_state_symbol(s.state) +
           "'), reachability " + reachability_text(s.reachability);
}

CheckResult timesyncd_client(const VmFacts& f, CheckResult r) {
    const auto cloud = cloud_addresses(f);
    const auto& c = f.client;
    const bool uses_cloud = std::any_of(c.timesyncd_servers.begin(), c.timesyncd_servers.end(),
                                        [&](const auto& s) { return cloud.count(s) != 0; });
    if (!c.timesyncd_synchronized) {
        r.reason = "systemd-timesyncd has not synchronized the clock";
    } else if (!uses_cloud) {
        r.reason = "systemd-timesyncd is synchronized, but its servers (" +
                   join(c.timesyncd_servers, " ") + ") are not the cloud's";
    } else {
        r.verdict = Verdict::pass;
        r.reason =
            "systemd-timesyncd synchronized, configured with " + join(c.timesyncd_servers, " ");
    }
    return r;
}

// What chronyd's tracking names is only its last reference: the source must still be in its
// list, selected, and reachable (after `chronyc delete X`, or while X shows '^?', tracking
// still names X for a while).
CheckResult chrony_client(const VmFacts& f, CheckResult r) {
    const auto& c = f.client;
    if (c.chrony_socket_left) {
        r.reason = "chronyd is not running (" + c.chrony_socket +
                   " is left from an earlier run): this VM's NTP client does not keep its time";
        return r;
    }
    if (!c.chrony) {
        const bool denied = is_permission_denied(c.chrony.failure());
        r.verdict = denied ? Verdict::abort : Verdict::fail;
        r.reason = denied
                       ? "cannot ask chronyd (" + c.chrony.error() +
                             "): run as root or as a member of chrony's group"
                       : "chronyd does not answer on " + c.chrony_socket + ": " + c.chrony.error();
        return r;
    }
    const auto& t = *c.chrony;
    if (t.leap == proto::ChronyLeap::unsynchronized || t.stratum == 0) {
        r.reason = "chronyd is not synchronized";
        return r;
    }
    const std::string address = chrony_address_text(t.family, t.address);
    const std::string name = address.empty() ? chrony_refid_text(t.ref_id) : address;
    if (!c.chrony_sources) {
        r.verdict =
            is_permission_denied(c.chrony_sources.failure()) ? Verdict::abort : Verdict::fail;
        r.reason = "chronyd names " + name + " as its reference, but its sources cannot be " +
                   "listed to confirm it: " + c.chrony_sources.error();
        return r;
    }
    const auto source = reference_source(t, *c.chrony_sources);
    if (!source) {
        r.reason = "chronyd's last reference " + name + " is no longer among its sources";
        return r;
    }
    if (source->state != proto::ChronySourceState::selected || source->reachability == 0) {
        r.reason = "chronyd does not follow " + name + " now: " + source_text(*source);
        return r;
    }
    if (address.empty()) {  // a reference clock
        if (name.rfind("PHC", 0) == 0 && f.ptp && !f.ptp->empty()) {
            r.verdict = Verdict::pass;
            r.reason =
                "chronyd follows the PTP clock (refid " + name + ", " + source_text(*source) + ")";
        } else {
            r.reason = "chronyd follows reference clock " + name + ", not a cloud source";
        }
        return r;
    }
    if (cloud_addresses(f).count(address) == 0) {
        r.reason = "chronyd follows " + address + ", which is not a cloud source that answers";
        return r;
    }
    r.verdict = Verdict::pass;
    r.reason = "chronyd follows " + address + " (" + source_text(*source) + ", stratum " +
               std::to_string(t.stratum) + ", last offset " + seconds_text(t.last_offset_s) + ")";
    return r;
}

// Every cloud server by name and address: those the channels named, and link-local ones that
// answer.
std::set<std::string> cloud_servers(const VmFacts& f) {
    std::set<std::string> out = cloud_addresses(f);
    for (const auto& c : f.channels) {
        for (const auto& s : c.servers ? *c.servers : std::vector<std::string>{}) {
            out.insert(s);
        }
    }
    return out;
}
}  // namespace

CheckResult client_check(const VmFacts& f) {
    CheckResult r{"client-synchronized", "the VM's NTP client follows a cloud source",
                  Verdict::fail, ""};
    switch (f.client.kind) {
        case ClientKind::none:
            r.reason = "no NTP client runs (neither chronyd nor systemd-timesyncd)";
            return r;
        case ClientKind::timesyncd:
            return timesyncd_client(f, r);
        case ClientKind::chrony:
            break;
    }
    return chrony_client(f, r);
}

CheckResult authenticated_check(const VmFacts& f) {
    CheckResult r{"client-authenticated", "the NTP client authenticates its cloud source (NTS)",
                  Verdict::skip, ""};
    const bool asked = !f.nts_requested_by.empty();
    const std::string asked_by = "the vendordata (" + f.nts_requested_by + ") asks for NTS";
    switch (f.client.kind) {
        case ClientKind::none:
            r.reason = "no NTP client";
            return r;
        case ClientKind::timesyncd:
            r.verdict = asked ? Verdict::warn : Verdict::skip;
            r.reason = "systemd-timesyncd has no NTS: its time is not authenticated" +
                       (asked ? "; " + asked_by + ": install chrony" : std::string());
            return r;
        case ClientKind::chrony:
            break;
    }
    const auto followed = chrony_follows_cloud_server(f);
    if (!followed) {
        r.reason = "chronyd follows no cloud server (see client-synchronized)";
        return r;
    }
    const auto& auth = f.client.chrony_auth;
    if (!auth) {
        r.verdict = asked ? Verdict::abort : Verdict::skip;
        r.reason =
            "cannot ask chronyd how it authenticates " + followed->address + ": " + auth.error();
        return r;
    }
    switch (auth->mode) {
        case proto::ChronyAuthMode::nts:
            if (auth->cookies == 0) {
                r.verdict = Verdict::fail;
                r.reason = fmt::format(
                    "chronyd asks {} for NTS but holds no cookies ({} key establishment "
                    "attempts since the last success)",
                    followed->address, auth->ke_attempts);
                return r;
            }
            r.verdict = Verdict::pass;
            r.reason = fmt::format(
                "chronyd authenticates {} with NTS (AEAD {}, {} cookies, key established {} s "
                "ago, {} NAKs)",
                followed->address, auth->key_type, auth->cookies, auth->last_ke_ago, auth->naks);
            return r;
        case proto::ChronyAuthMode::symmetric:
            r.verdict = Verdict::pass;
            r.reason = "chronyd authenticates " + followed->address + " with a symmetric key";
            return r;
        case proto::ChronyAuthMode::none:
            break;
    }
    r.verdict = asked ? Verdict::fail : Verdict::skip;
    r.reason = "chronyd does not authenticate " + followed->address + " (plain NTP)" +
               (asked ? "; " + asked_by : "; the vendordata does not ask for NTS");
    return r;
}

CheckResult configured_check(const VmFacts& f) {
    CheckResult r{"client-uses-cloud-servers", "the NTP client is configured with them",
                  Verdict::fail, ""};
    const auto cloud = cloud_servers(f);
    std::vector<std::string> configured;
    const auto& c = f.client;
    switch (c.kind) {
        case ClientKind::none:
            r.verdict = Verdict::skip;
            r.reason = "no NTP client";
            return r;
        case ClientKind::timesyncd:
            configured = c.timesyncd_servers;
            break;
        case ClientKind::chrony:
            if (!c.chrony_sources) {
                const bool denied = is_permission_denied(c.chrony_sources.failure());
                r.verdict = denied ? Verdict::abort : Verdict::fail;
                r.reason = "cannot list chronyd's sources: " + c.chrony_sources.error();
                return r;
            }
            for (const auto& s : *c.chrony_sources) {
                const std::string address = chrony_address_text(s.family, s.address);
                if (!address.empty()) {
                    configured.push_back(address);
                }
            }
            break;
    }
    std::vector<std::string> used;
    for (const auto& s : configured) {
        if (cloud.count(without_scope(s)) != 0) {
            used.push_back(s);
        }
    }
    if (used.empty()) {
        r.reason = "its servers (" + (configured.empty() ? "none" : join(configured, " ")) +
                   ") include none of the cloud's (" +
                   (cloud.empty() ? "none found" : join({cloud.begin(), cloud.end()}, " ")) + ")";
        return r;
    }
    r.verdict = Verdict::pass;
    r.reason = "uses " + join(used, " ");
    return r;
}

}  // namespace cloudtime::check
