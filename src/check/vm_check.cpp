// SPDX-License-Identifier: Apache-2.0
#include "check/vm_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "check/chrony_view.hpp"
#include "check/server_identity.hpp"
#include "check/vm_client_check.hpp"
#include "util/strings.hpp"

namespace cloudtime::check {

namespace {
constexpr std::size_t kMinJitterSamples = 3;

// Whether `s` is the server chronyd follows (it answered chronyd within its last 8 polls) and
// this check's requests to it went unanswered without an error: what a rate limit that drops
// silently looks like, when the VM's own chronyd spends the same source's rate.
bool silent_to_the_check_only(const std::optional<FollowedServer>& followed,
                              const ServerMeasurement& s) {
    return followed && without_scope(s.server) == followed->address && s.result &&
           s.result->samples.empty() && !s.result->rejection;
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
    return "no answer to " + std::to_string(s.result->sent) +
           (s.result->sent == 1 ? " request" : " requests");
}

CheckResult delivered_check(const VmFacts& f) {
    CheckResult r{"time-source-delivered", "the cloud tells this VM where to get time",
                  Verdict::fail, ""};
    std::vector<std::string> found;
    std::vector<std::string> missing;
    std::vector<std::string> unread;
    for (const auto& c : f.channels) {
        const bool dynamic = c.source.ends_with("vendor_data2.json");
        if (c.servers && !c.servers->empty() && dynamic &&
            !cloud_init_reads_vendor_data2(f.cloud_init_version, c.kind)) {
            // Delivered, but this image's cloud-init never reads it.
            unread.push_back(c.kind + " (" + c.source + "): " + join(*c.servers, " "));
            continue;
        }
        if (c.servers && !c.servers->empty()) {
            found.push_back(c.kind + " (" + c.source + "): " + join(*c.servers, " "));
        } else {
            std::string why = c.kind + ": " + (c.servers ? "no NTP servers" : c.servers.error());
            if (std::find(missing.begin(), missing.end(), why) == missing.end()) {
                missing.push_back(std::move(why));  // both vendordata files say the same
            }
        }
    }
    // A link-local server that answers is reachable, but nothing told this VM to use it.
    std::vector<std::string> untold;
    for (const auto& s : f.servers) {
        if (s.found_by == std::vector<std::string>{"link-local"} && s.reached()) {
            untold.push_back(s.server);
        }
    }
    if (ptp_count(f) > 0) {
        for (const auto& clock : *f.ptp) {
            found.push_back("PTP clock " + clock.info.device + " (" + clock.info.clock_name + ")");
        }
    }
    const std::string unread_text =
        unread.empty()
            ? std::string()
            : "; " + join(unread, "; ") + ", but this image's cloud-init " + f.cloud_init_version +
                  " does not read vendor_data2.json there (from the metadata service "
                  "since 21.1, from a config drive since 22.2): the cloud's "
                  "vendor_data.json (Nova's StaticJSON) or DHCP option 42 reaches it";
    if (found.empty()) {
        r.reason = "no cloud time source delivered: " + join(missing, "; ") + "; no PTP clock" +
                   (untold.empty() ? std::string()
                                   : "; NTP answers on " + join(untold, ", ") +
                                         ", but nothing told this VM to use it") +
                   unread_text;
        return r;
    }
    r.verdict = Verdict::pass;
    r.reason = join(found, "; ") + unread_text;
    return r;
}

CheckResult reachable_check(const VmFacts& f) {
    CheckResult r{"ntp-servers-reachable", "the NTP servers the cloud names answer", Verdict::fail,
                  ""};
    std::vector<std::string> good;
    std::vector<std::string> doubtful;
    std::vector<std::string> bad;
    const auto followed = chrony_followed_server(f.client);
    for (const auto& s : f.servers) {
        const bool named = std::any_of(s.found_by.begin(), s.found_by.end(),
                                       [](const auto& k) { return k != "link-local"; });
        if (s.answered()) {
            good.push_back(s.server);
        } else if (s.rate_limited()) {
            good.push_back(s.server + " (it rate-limited this check: KoD RATE)");
        } else if (silent_to_the_check_only(followed, s)) {
            // chronyd's latest poll answered: it is there. Only older polls: it was there a
            // moment ago, and is rate-limiting this VM or going away: say so, do not decide.
            const std::string seen = s.server + " (to chronyd, reachability " +
                                     reachability_text(followed->source.reachability) +
                                     "; this check's requests: " + unreachable_reason(s) + ")";
            ((followed->source.reachability & 1U) != 0 ? good : doubtful).push_back(seen);
        } else if (named) {
            bad.push_back(s.server + " (from " + join(s.found_by, ", ") +
                          "): " + unreachable_reason(s));
        }
    }
    if (!bad.empty()) {
        r.reason = "unreachable: " + join(bad, "; ");
        return r;
    }
    if (good.empty() && doubtful.empty()) {
        r.reason = "no NTP server to reach: none named by the cloud, none on a link-local address";
        return r;
    }
    if (!doubtful.empty()) {
        r.verdict = Verdict::warn;
        r.reason = "answered chronyd in its last polls but not its latest, nor this check: " +
                   join(doubtful, "; ") +
                   " (rate-limiting this VM, or going away: run the check again)" +
                   (good.empty() ? "" : "; answering: " + join(good, ", "));
        return r;
    }
    r.verdict = Verdict::pass;
    r.reason = "answering: " + join(good, ", ");
    return r;
}

Verdict offset_verdict(double magnitude, const VmThresholds& th) {
    return magnitude <= th.offset_warn_s   ? Verdict::pass
           : magnitude <= th.offset_fail_s ? Verdict::warn
                                           : Verdict::fail;
}

std::string limits_text(const VmThresholds& th) {
    return "warn above " + seconds_text(th.offset_warn_s) + ", fail above " +
           seconds_text(th.offset_fail_s);
}

bool any_rate_limited(const VmFacts& f) {
    return std::any_of(f.servers.begin(), f.servers.end(),
                       [](const auto& s) { return s.rate_limited(); });
}

CheckResult offset_check(const VmFacts& f, const VmThresholds& th) {
    CheckResult r{"offset", "system clock offset from the cloud's time", Verdict::abort, ""};
    // chronyd measures the server it follows every poll, and filters: its view is the better
    // one, and reading it sends the server nothing.
    if (const auto followed = chrony_follows_cloud_server(f)) {
        const auto& t = *f.client.chrony;
        const double magnitude =
            std::max(std::fabs(t.current_correction_s), std::fabs(t.last_offset_s));
        r.verdict = offset_verdict(magnitude, th);
        r.reason = "chronyd, following " + followed->address + ": system clock " +
                   seconds_text(t.current_correction_s) + " from its time, last offset " +
                   seconds_text(t.last_offset_s) + " (" + limits_text(th) + ")";
        return r;
    }
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
        r.reason = any_rate_limited(f)
                       ? "not measured: the cloud's server rate-limited this check (KoD RATE) "
                         "and no NTP client here follows it; run the check again in a minute"
                       : "nothing to measure against: no cloud NTP server answered, no "
                         "readable PTP clock";
        return r;
    }
    r.verdict = offset_verdict(std::fabs(offset), th);
    r.reason = seconds_text(offset) + " against " + against + " (" + limits_text(th) + ")";
    return r;
}

CheckResult jitter_check(const VmFacts& f, const VmThresholds& th) {
    CheckResult r{"jitter", "jitter of the cloud's time", Verdict::abort, ""};
    if (const auto followed = chrony_follows_cloud_server(f)) {
        const double jitter = f.client.chrony->rms_offset_s;
        r.verdict = jitter <= th.jitter_fail_s ? Verdict::pass : Verdict::fail;
        r.reason = "chronyd's RMS offset " + seconds_text(jitter) + ", following " +
                   followed->address + " (fail above " + seconds_text(th.jitter_fail_s) + ")";
        return r;
    }
    const auto* best = best_server(f);
    if (best == nullptr) {
        r.reason = "needs an answering cloud server";
        return r;
    }
    const auto& m = *best->result;
    if (m.samples.size() < kMinJitterSamples) {
        // Lost requests are what a rate limit that drops looks like: a jitter over the few
        // that came back says nothing.
        r.reason = "only " + std::to_string(m.samples.size()) + " of " + std::to_string(m.sent) +
                   " requests to " + best->server + " were answered; jitter needs " +
                   std::to_string(kMinJitterSamples);
        return r;
    }
    const double jitter = m.summary->jitter_s;
    r.verdict = jitter <= th.jitter_fail_s ? Verdict::pass : Verdict::fail;
    r.reason = seconds_text(jitter) + " over " + std::to_string(m.samples.size()) + " samples of " +
               best->server + " (fail above " + seconds_text(th.jitter_fail_s) + ")";
    return r;
}

CheckResult redundancy_check(const VmFacts& f, const VmThresholds& th) {
    CheckResult r{"source-redundancy", "a PTP clock or two distinct cloud NTP servers",
                  Verdict::pass, ""};
    const std::size_t ptp = ptp_count(f);
    const std::size_t servers = distinct_servers(f);
    std::vector<std::string> addresses;
    for (const auto& s : f.servers) {
        if (s.reached()) {
            addresses.push_back(s.server);
        }
    }
    std::string counts = std::to_string(ptp) + " PTP clock" + (ptp == 1 ? "" : "s") + ", " +
                         std::to_string(servers) + " answering cloud NTP server" +
                         (servers == 1 ? "" : "s");
    if (addresses.size() > servers) {
        counts += " (on " + join(addresses, ", ") + ")";
    }
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
               (servers == 1 ? ": if it fails, this VM has no time" : "") +
               ". The cloud can add the KVM PTP clock (ptp_kvm) where its hypervisors support "
               "it, or a second NTP server that does not share the first one's host";
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
        if (!f.ptp_requested_by.empty()) {
            // Asked for and not there: time still comes by NTP, but not as well as it could.
            r.verdict = Verdict::warn;
            r.reason = "the vendordata (" + f.ptp_requested_by +
                       ") asks for the KVM PTP clock, but this VM has none (not a KVM guest, or "
                       "the hypervisor offers none): NTP only";
        }
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

std::set<std::string> cloud_addresses(const VmFacts& facts) {
    std::set<std::string> out;
    const auto followed = chrony_followed_server(facts.client);
    for (const auto& s : facts.servers) {
        if (s.reached()) {
            out.insert(without_scope(s.server));
            out.insert(without_scope(s.result->server.host_string()));
        } else if (silent_to_the_check_only(followed, s)) {
            out.insert(followed->address);  // answers chronyd, if not this check's request
        }
    }
    return out;
}

std::optional<FollowedServer> chrony_followed_server(const ClientFacts& c) {
    if (c.kind != ClientKind::chrony || !c.chrony || !c.chrony_sources ||
        c.chrony->leap == proto::ChronyLeap::unsynchronized || c.chrony->stratum == 0) {
        return std::nullopt;
    }
    const std::string address = chrony_address_text(c.chrony->family, c.chrony->address);
    const auto source = reference_source(*c.chrony, *c.chrony_sources);
    if (address.empty() || !source || source->state != proto::ChronySourceState::selected ||
        source->reachability == 0) {
        return std::nullopt;
    }
    return FollowedServer{address, *source};
}

std::optional<FollowedServer> chrony_follows_cloud_server(const VmFacts& facts) {
    auto followed = chrony_followed_server(facts.client);
    if (followed && cloud_addresses(facts).count(followed->address) == 0) {
        return std::nullopt;
    }
    return followed;
}

std::size_t distinct_servers(const VmFacts& facts) {
    std::vector<std::vector<proto::Header>> answers;
    bool unidentified = false;
    for (const auto& s : facts.servers) {
        if (!s.reached()) {
            continue;
        }
        std::vector<proto::Header> headers;
        for (const auto& sample : s.result->samples) {
            headers.push_back(sample.header);
        }
        if (headers.empty()) {
            unidentified = true;  // only a KoD RATE: no identity to compare
        } else {
            answers.push_back(std::move(headers));
        }
    }
    const auto groups = group_servers(answers);
    const std::set<std::size_t> distinct(groups.begin(), groups.end());
    return distinct.empty() && unidentified ? 1 : distinct.size();
}

bool cloud_init_reads_vendor_data2(const std::string& version, const std::string& kind) {
    int major = 0;
    int minor = 0;
    if (std::sscanf(version.c_str(), "%d.%d", &major, &minor) != 2) {
        return true;
    }
    const std::pair<int, int> since = kind == "config-drive" ? std::pair{22, 2} : std::pair{21, 1};
    return std::pair{major, minor} >= since;
}

std::vector<CheckResult> evaluate_vm(const VmFacts& facts, const VmThresholds& thresholds) {
    std::vector<CheckResult> out = {delivered_check(facts),
                                    reachable_check(facts),
                                    client_check(facts),
                                    configured_check(facts),
                                    offset_check(facts, thresholds),
                                    jitter_check(facts, thresholds),
                                    redundancy_check(facts, thresholds),
                                    ptp_check(facts),
                                    leap_check(facts),
                                    authenticated_check(facts)};
    if (!facts.opted_out.empty()) {
        // The tenant turned the cloud's time off: what the cloud no longer provides is not a
        // failure of the cloud. What still holds keeps its verdict; nothing turns into a pass.
        for (auto& r : out) {
            if (r.verdict == Verdict::fail || r.verdict == Verdict::abort) {
                r.verdict = Verdict::skip;
                r.reason = "opted out (cloudtime_ntp=off in " + facts.opted_out + "): " + r.reason;
            }
        }
    }
    return out;
}

namespace {

bool failed(const std::vector<CheckResult>& results, std::string_view id) {
    return std::any_of(results.begin(), results.end(), [id](const CheckResult& r) {
        return r.id == id && r.verdict == Verdict::fail;
    });
}

}  // namespace

bool waiting_may_help(const VmFacts& facts, const std::vector<CheckResult>& results) {
    return exit_code(results) == 1 && facts.client.kind != ClientKind::none &&
           !failed(results, "time-source-delivered");
}

bool configured_elsewhere(const VmFacts& facts, const std::vector<CheckResult>& results) {
    const auto& c = facts.client;
    return c.kind == ClientKind::chrony && c.chrony_sources && !c.chrony_sources->empty() &&
           failed(results, "client-uses-cloud-servers");
}

}  // namespace cloudtime::check
