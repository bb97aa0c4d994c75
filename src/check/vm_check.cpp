#include "check/vm_check.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "util/strings.hpp"

namespace cloudtime::check {

namespace {
// An address in chrony's IPAddr form as text; "" for a reference clock's id.
std::string address_text(proto::ChronyAddressFamily family,
                         const std::array<std::uint8_t, 16>& address) {
    if (family == proto::ChronyAddressFamily::inet4) {
        return std::to_string(address[0]) + "." + std::to_string(address[1]) + "." +
               std::to_string(address[2]) + "." + std::to_string(address[3]);
    }
    if (family == proto::ChronyAddressFamily::inet6) {
        sockaddr_in6 sa{};
        sa.sin6_family = AF_INET6;
        std::copy(address.begin(), address.end(), sa.sin6_addr.s6_addr);
        const auto parsed =
            sys::SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
        return parsed ? parsed->host_string() : "?";
    }
    return {};
}

// The refid of a reference clock as chrony names it ("PHC0").
std::string refid_text(std::uint32_t refid) {
    std::string text;
    for (int shift = 24; shift >= 0; shift -= 8) {
        const auto c = static_cast<char>((refid >> static_cast<unsigned>(shift)) & 0xFFU);
        if (c >= 0x20 && c < 0x7F) {
            text.push_back(c);
        }
    }
    return text;
}

std::string without_scope(const std::string& host) {
    return host.substr(0, host.find('%'));
}

// Every form a cloud server is known by: as discovered, and the addresses that answered.
std::set<std::string> cloud_addresses(const VmFacts& f) {
    std::set<std::string> out;
    for (const auto& s : f.servers) {
        if (s.answered()) {
            out.insert(without_scope(s.server));
            out.insert(without_scope(s.result->server.host_string()));
        }
    }
    return out;
}

std::vector<const ServerMeasurement*> answering(const VmFacts& f) {
    std::vector<const ServerMeasurement*> out;
    for (const auto& s : f.servers) {
        if (s.answered()) {
            out.push_back(&s);
        }
    }
    return out;
}

std::size_t ptp_count(const VmFacts& f) {
    return f.ptp ? f.ptp->size() : 0;
}

std::string unreachable_reason(const ServerMeasurement& s) {
    if (!s.result) {
        return s.result.error();
    }
    if (s.result->rejection) {
        return std::string("answered but ") +
               proto::reply_verdict_name(s.result->rejection->verdict);
    }
    return "no answer to " + std::to_string(s.result->sent) + " requests";
}

CheckResult delivered_check(const VmFacts& f) {
    CheckResult r{"time-source-delivered", "the cloud tells this VM where to get time",
                  Verdict::fail, ""};
    std::vector<std::string> found;
    std::vector<std::string> missing;
    for (const auto& c : f.channels) {
        if (c.servers && !c.servers->empty()) {
            found.push_back(c.kind + " (" + c.source + "): " + join(*c.servers, " "));
        } else {
            missing.push_back(c.kind + ": " + (c.servers ? "no NTP servers" : c.servers.error()));
        }
    }
    // A link-local server that answers is reachable, but nothing told this VM to use it.
    std::vector<std::string> untold;
    for (const auto& s : f.servers) {
        if (s.found_by == std::vector<std::string>{"link-local"} && s.answered()) {
            untold.push_back(s.server);
        }
    }
    if (ptp_count(f) > 0) {
        for (const auto& clock : *f.ptp) {
            found.push_back("PTP clock " + clock.info.device + " (" + clock.info.clock_name + ")");
        }
    }
    if (found.empty()) {
        r.reason = "no cloud time source delivered: " + join(missing, "; ") + "; no PTP clock" +
                   (untold.empty() ? std::string()
                                   : "; NTP answers on " + join(untold, ", ") +
                                         ", but nothing told this VM to use it");
        return r;
    }
    r.verdict = Verdict::pass;
    r.reason = join(found, "; ");
    return r;
}

CheckResult reachable_check(const VmFacts& f) {
    CheckResult r{"ntp-servers-reachable", "the NTP servers the cloud names answer", Verdict::fail,
                  ""};
    std::vector<std::string> good;
    std::vector<std::string> bad;
    for (const auto& s : f.servers) {
        const bool named = std::any_of(s.found_by.begin(), s.found_by.end(),
                                       [](const auto& k) { return k != "link-local"; });
        if (s.answered()) {
            good.push_back(s.server);
        } else if (named) {
            bad.push_back(s.server + " (from " + join(s.found_by, ", ") +
                          "): " + unreachable_reason(s));
        }
    }
    if (!bad.empty()) {
        r.reason = "unreachable: " + join(bad, "; ");
        return r;
    }
    if (good.empty()) {
        r.reason = "no NTP server to reach: none named by the cloud, none on a link-local address";
        return r;
    }
    r.verdict = Verdict::pass;
    r.reason = "answering: " + join(good, ", ");
    return r;
}

CheckResult client_check(const VmFacts& f) {
    CheckResult r{"client-synchronized", "the VM's NTP client follows a cloud source",
                  Verdict::fail, ""};
    const auto cloud = cloud_addresses(f);
    const auto& c = f.client;
    switch (c.kind) {
        case ClientKind::none:
            r.reason = "no NTP client runs (neither chronyd nor systemd-timesyncd)";
            return r;
        case ClientKind::timesyncd: {
            const bool uses_cloud =
                std::any_of(c.timesyncd_servers.begin(), c.timesyncd_servers.end(),
                            [&](const auto& s) { return cloud.count(s) != 0; });
            if (!c.timesyncd_synchronized) {
                r.reason = "systemd-timesyncd has not synchronized the clock";
            } else if (!uses_cloud) {
                r.reason = "systemd-timesyncd is synchronized, but its servers (" +
                           join(c.timesyncd_servers, " ") + ") are not the cloud's";
            } else {
                r.verdict = Verdict::pass;
                r.reason = "systemd-timesyncd synchronized, configured with " +
                           join(c.timesyncd_servers, " ");
            }
            return r;
        }
        case ClientKind::chrony:
            break;
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
    const std::string selected = address_text(t.family, t.address);
    if (selected.empty()) {  // a reference clock
        const std::string refid = refid_text(t.ref_id);
        if (refid.rfind("PHC", 0) == 0 && ptp_count(f) > 0) {
            r.verdict = Verdict::pass;
            r.reason = "chronyd follows the PTP clock (refid " + refid + ")";
        } else {
            r.reason = "chronyd follows reference clock " + refid + ", not a cloud source";
        }
        return r;
    }
    if (cloud.count(selected) == 0) {
        r.reason = "chronyd follows " + selected + ", which is not a cloud source that answers";
        return r;
    }
    r.verdict = Verdict::pass;
    r.reason = "chronyd follows " + selected + " (stratum " + std::to_string(t.stratum) +
               ", last offset " + seconds_text(t.last_offset_s) + ")";
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
                const std::string address = address_text(s.family, s.address);
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

CheckResult offset_check(const VmFacts& f, const VmThresholds& th) {
    CheckResult r{"offset", "system clock offset from the cloud's time", Verdict::abort, ""};
    double offset = 0.0;
    std::string against;
    if (const auto* best = best_server(f)) {
        offset = best->result->summary->offset_s;
        against = best->server;
    } else if (f.ptp) {
        for (const auto& clock : *f.ptp) {
            if (clock.offset) {
                offset = clock.offset->offset_s;
                against = clock.info.device;
                break;
            }
        }
    }
    if (against.empty()) {
        r.reason =
            "nothing to measure against: no cloud NTP server answered, no readable PTP "
            "clock";
        return r;
    }
    const double magnitude = std::fabs(offset);
    r.verdict = magnitude <= th.offset_warn_s   ? Verdict::pass
                : magnitude <= th.offset_fail_s ? Verdict::warn
                                                : Verdict::fail;
    r.reason = seconds_text(offset) + " against " + against + " (warn above " +
               seconds_text(th.offset_warn_s) + ", fail above " + seconds_text(th.offset_fail_s) +
               ")";
    return r;
}

CheckResult jitter_check(const VmFacts& f, const VmThresholds& th) {
    CheckResult r{"jitter", "jitter of the cloud's time", Verdict::abort, ""};
    const auto* best = best_server(f);
    if (best == nullptr || best->result->samples.size() < 2) {
        r.reason = "needs two samples from an answering cloud server";
        return r;
    }
    const double jitter = best->result->summary->jitter_s;
    r.verdict = jitter <= th.jitter_fail_s ? Verdict::pass : Verdict::fail;
    r.reason = seconds_text(jitter) + " over " + std::to_string(best->result->samples.size()) +
               " samples of " + best->server + " (fail above " + seconds_text(th.jitter_fail_s) +
               ")";
    return r;
}

CheckResult redundancy_check(const VmFacts& f, const VmThresholds& th) {
    CheckResult r{"source-redundancy",
                  "a network-independent source (PTP clock) or two cloud NTP servers",
                  Verdict::pass, ""};
    const std::size_t ptp = ptp_count(f);
    const std::size_t servers = answering(f).size();
    const std::string counts = std::to_string(ptp) + " PTP clock" + (ptp == 1 ? "" : "s") + ", " +
                               std::to_string(servers) + " answering cloud NTP server" +
                               (servers == 1 ? "" : "s");
    if (th.redundancy == RedundancyRule::off) {
        r.verdict = Verdict::skip;
        r.reason = "not required (" + counts + ")";
        return r;
    }
    if (ptp >= 1 || servers >= 2) {
        r.reason = counts;
        return r;
    }
    r.verdict = th.redundancy == RedundancyRule::required ? Verdict::fail : Verdict::warn;
    r.reason = counts + (f.ptp ? "" : " (PTP clocks: " + f.ptp.error() + ")") +
               ": one failure leaves this VM without time";
    return r;
}

CheckResult ptp_check(const VmFacts& f) {
    CheckResult r{"ptp-clock", "PTP hardware clock", Verdict::skip, ""};
    if (!f.ptp) {
        r.verdict = Verdict::warn;
        r.reason = "cannot list PTP clocks: " + f.ptp.error();
        return r;
    }
    if (f.ptp->empty()) {
        r.reason = "absent (no /sys/class/ptp clock)";
        return r;
    }
    std::vector<std::string> parts;
    bool unreadable = false;
    for (const auto& clock : *f.ptp) {
        std::string part = clock.info.device + " \"" + clock.info.clock_name + "\": ";
        if (clock.offset) {
            part += "offset " + seconds_text(clock.offset->offset_s) + " (" + clock.offset->method +
                    ")";
        } else {
            unreadable = true;
            part += "not readable here (" + clock.offset.error() + ")";
        }
        parts.push_back(part);
    }
    r.verdict = unreadable ? Verdict::warn : Verdict::pass;
    r.reason = join(parts, "; ");
    return r;
}

CheckResult leap_check(const VmFacts& f) {
    CheckResult r{"leap-status", "leap status normal", Verdict::abort, ""};
    std::optional<proto::ChronyLeap> leap;
    std::string from;
    if (f.client.kind == ClientKind::chrony && f.client.chrony) {
        leap = f.client.chrony->leap;
        from = "chronyd";
    } else if (const auto* best = best_server(f)) {
        // NTP's LI and chrony's leap share their values (0 none, 1 insert, 2 delete, 3 unsync).
        leap = static_cast<proto::ChronyLeap>(
            static_cast<std::uint8_t>(best->result->samples.back().header.leap));
        from = best->server;
    }
    if (!leap) {
        r.reason = "no synchronized source to read it from";
        return r;
    }
    switch (*leap) {
        case proto::ChronyLeap::normal:
            r.verdict = Verdict::pass;
            r.reason = "normal (" + from + ")";
            break;
        case proto::ChronyLeap::insert:
        case proto::ChronyLeap::remove:
            r.verdict = Verdict::warn;
            r.reason = std::string("a leap second is announced (") +
                       (*leap == proto::ChronyLeap::insert ? "insert" : "delete") + ", " + from +
                       ")";
            break;
        case proto::ChronyLeap::unsynchronized:
            r.verdict = Verdict::fail;
            r.reason = "unsynchronized (" + from + ")";
            break;
    }
    return r;
}
}  // namespace

const ServerMeasurement* best_server(const VmFacts& facts) {
    const ServerMeasurement* best = nullptr;
    for (const auto* s : answering(facts)) {
        if (best == nullptr || s->result->summary->delay_s < best->result->summary->delay_s) {
            best = s;
        }
    }
    return best;
}

std::vector<CheckResult> evaluate_vm(const VmFacts& facts, const VmThresholds& thresholds) {
    return {delivered_check(facts),
            reachable_check(facts),
            client_check(facts),
            configured_check(facts),
            offset_check(facts, thresholds),
            jitter_check(facts, thresholds),
            redundancy_check(facts, thresholds),
            ptp_check(facts),
            leap_check(facts)};
}

}  // namespace cloudtime::check
