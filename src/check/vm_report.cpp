// SPDX-License-Identifier: Apache-2.0
#include "check/vm_report.hpp"

#include <fmt/format.h>

#include "check/chrony_view.hpp"
#include "util/strings.hpp"

namespace cloudtime::check {

namespace {

nlohmann::json channels_json(const VmFacts& f) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : f.channels) {
        nlohmann::json j = {{"kind", c.kind}, {"source", c.source}};
        if (c.servers) {
            j["servers"] = *c.servers;
        } else {
            j["error"] = c.servers.error();
        }
        out.push_back(j);
    }
    return out;
}

nlohmann::json server_json(const ServerMeasurement& s) {
    nlohmann::json j = {{"server", s.server}, {"found_by", s.found_by}, {"answered", s.answered()}};
    if (!s.result) {
        j["error"] = s.result.error();
        return j;
    }
    j["address"] = s.result->server.to_string();
    j["sent"] = s.result->sent;
    j["lost"] = s.result->lost;
    if (s.result->rejection) {
        j["rejected"] = proto::reply_verdict_name(s.result->rejection->verdict);
    }
    if (s.result->summary) {
        j["offset_s"] = s.result->summary->offset_s;
        j["delay_s"] = s.result->summary->delay_s;
        j["jitter_s"] = s.result->summary->jitter_s;
        j["stratum"] = s.result->samples.back().header.stratum;
    }
    // Each answer, in the order asked: what a report plots.
    j["samples"] = nlohmann::json::array();
    for (const auto& sample : s.result->samples) {
        j["samples"].push_back({{"offset_s", sample.offset_s}, {"delay_s", sample.delay_s}});
    }
    return j;
}

void add_ptp_json(nlohmann::json& out, const VmFacts& f) {
    out["ptp_clocks"] = nlohmann::json::array();
    if (!f.ptp) {
        out["ptp_error"] = f.ptp.error();
        return;
    }
    for (const auto& clock : *f.ptp) {
        nlohmann::json j = {{"device", clock.info.device}, {"clock_name", clock.info.clock_name}};
        if (clock.offset) {
            j["offset_s"] = clock.offset->offset_s;
            j["method"] = clock.offset->method;
        } else {
            j["error"] = clock.offset.error();
        }
        out["ptp_clocks"].push_back(j);
    }
}

nlohmann::json chrony_sources_json(const std::vector<proto::ChronySource>& sources) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : sources) {
        out.push_back({{"address", chrony_source_name(s)},
                       {"mode", s.mode == proto::ChronySourceMode::reference_clock ? "refclock"
                                : s.mode == proto::ChronySourceMode::peer          ? "peer"
                                                                                   : "server"},
                       {"state", source_state_name(s.state)},
                       {"symbol", std::string(1, source_state_symbol(s.state))},
                       {"stratum", s.stratum},
                       {"reachability", reachability_text(s.reachability)},
                       {"latest_offset_s", s.latest_offset_s}});
    }
    return out;
}

nlohmann::json chrony_auth_json(const proto::ChronyAuthData& a) {
    return {{"mode", a.mode == proto::ChronyAuthMode::nts         ? "nts"
                     : a.mode == proto::ChronyAuthMode::symmetric ? "symmetric"
                                                                  : "none"},
            {"key_type", a.key_type},
            {"key_length", a.key_length},
            {"ke_attempts", a.ke_attempts},
            {"last_ke_ago_s", a.last_ke_ago},
            {"cookies", a.cookies},
            {"cookie_length", a.cookie_length},
            {"naks", a.naks}};
}

nlohmann::json client_json(const ClientFacts& c) {
    nlohmann::json client;
    client["kind"] = c.kind == ClientKind::chrony      ? "chrony"
                     : c.kind == ClientKind::timesyncd ? "systemd-timesyncd"
                                                       : "none";
    if (c.kind == ClientKind::timesyncd) {
        client["synchronized"] = c.timesyncd_synchronized;
        client["servers"] = c.timesyncd_servers;
    }
    if (c.kind != ClientKind::chrony) {
        return client;
    }
    client["socket"] = c.chrony_socket;
    if (c.chrony) {
        client["stratum"] = c.chrony->stratum;
        client["leap"] = static_cast<int>(c.chrony->leap);
        client["last_offset_s"] = c.chrony->last_offset_s;
        client["rms_offset_s"] = c.chrony->rms_offset_s;
    } else {
        client["error"] = c.chrony.error();
    }
    if (c.chrony_sources) {
        client["sources"] = chrony_sources_json(*c.chrony_sources);
    } else {
        client["sources_error"] = c.chrony_sources.error();
    }
    if (c.chrony_auth) {
        client["authdata"] = chrony_auth_json(*c.chrony_auth);
    }
    return client;
}

}  // namespace

nlohmann::json vm_facts_json(const VmFacts& f) {
    nlohmann::json out;
    out["channels"] = channels_json(f);
    out["servers"] = nlohmann::json::array();
    for (const auto& s : f.servers) {
        out["servers"].push_back(server_json(s));
    }
    add_ptp_json(out, f);
    out["client"] = client_json(f.client);
    // Where the guest was told what, and its cloud-init, when known.
    const std::pair<const char*, const std::string*> known[] = {
        {"opted_out", &f.opted_out},
        {"ptp_requested_by", &f.ptp_requested_by},
        {"nts_requested_by", &f.nts_requested_by},
        {"cloud_init_version", &f.cloud_init_version}};
    for (const auto& [key, text] : known) {
        if (!text->empty()) {
            out[key] = *text;
        }
    }
    return out;
}

std::vector<std::string> vm_facts_table(const VmFacts& f) {
    std::vector<std::string> table;
    table.push_back(fmt::format("{:<32} {:<24} {:>12} {:>12} {:>12}", "server", "found by",
                                "offset", "delay", "jitter"));
    for (const auto& s : f.servers) {
        const std::string found = join(s.found_by, ",");
        if (s.answered()) {
            const auto& m = *s.result->summary;
            table.push_back(fmt::format("{:<32} {:<24} {:>12} {:>12} {:>12}", s.server, found,
                                        seconds_text(m.offset_s), seconds_text(m.delay_s),
                                        seconds_text(m.jitter_s)));
        } else {
            const std::string why = !s.result          ? s.result.error()
                                    : s.rate_limited() ? "rate-limited this check (KoD RATE)"
                                                       : "no usable answer";
            table.push_back(fmt::format("{:<32} {:<24} {}", s.server, found, why));
        }
    }
    if (!f.opted_out.empty()) {
        table.push_back("opted out: the instance's metadata sets cloudtime_ntp=off (" +
                        f.opted_out + "); what the cloud no longer provides is skipped");
    }
    return table;
}

}  // namespace cloudtime::check
