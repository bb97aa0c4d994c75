// SPDX-License-Identifier: Apache-2.0
// `cloudtime query [--samples N] [--interval S] [--timeout S] [--interleaved]
// [--nts [--nts-port N] [--nts-ca FILE]] [--json] HOST[:PORT]`
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "client/query.hpp"
#include "net/resolve.hpp"
#include "proto/refid.hpp"

namespace cloudtime::cli {

namespace {

constexpr std::uint16_t kNtpPort = 123;

struct QueryArgs {
    std::string target;
    client::QueryOptions options;
    bool json = false;
    bool nts = false;
    std::uint16_t nts_port = client::kNtsKePort;
    std::string nts_ca;
};

std::string refid_text(const proto::Header& h) {
    return proto::refid_to_string(h.refid, h.stratum);
}

nlohmann::json header_json(const proto::Header& h) {
    return {{"stratum", h.stratum},
            {"leap", proto::leap_name(h.leap)},
            {"refid", refid_text(h)},
            {"version", h.version},
            {"poll", h.poll},
            {"precision", h.precision},
            {"root_delay_s", h.root_delay.to_seconds()},
            {"root_dispersion_s", h.root_dispersion.to_seconds()}};
}

int interleaved_count(const client::QueryResult& r) {
    return static_cast<int>(std::count(r.interleaved.begin(), r.interleaved.end(), true));
}

nlohmann::json result_json(const QueryArgs& args, const client::QueryResult& r,
                           const client::NtsSession* nts) {
    nlohmann::json out;
    out["server"] = args.target;
    out["address"] = r.server.to_string();
    out["sent"] = r.sent;
    out["answered"] = r.answered;
    out["lost"] = r.lost;
    out["samples"] = nlohmann::json::array();
    for (std::size_t i = 0; i < r.samples.size(); ++i) {
        const auto& s = r.samples[i];
        nlohmann::json j = header_json(s.header);
        j["offset_s"] = s.offset_s;
        j["delay_s"] = s.delay_s;
        j["dispersion_s"] = s.dispersion_s;
        j["interleaved"] = static_cast<bool>(r.interleaved[i]);
        out["samples"].push_back(j);
    }
    if (args.options.interleaved) {
        out["interleaved_samples"] = interleaved_count(r);
        out["kernel_transmit_samples"] = r.kernel_transmit;
    }
    if (nts != nullptr) {
        out["nts"] = {{"ke_server", nts->ke_server.to_string()},
                      {"authenticated_samples", r.authenticated},
                      {"unauthenticated_replies", r.unauthenticated},
                      {"cookies_received", nts->cookies_received}};
    }
    if (r.summary) {
        const auto& best = r.samples[r.summary->best_index];
        out.update(header_json(best.header));
        out["offset_s"] = r.summary->offset_s;
        out["delay_s"] = r.summary->delay_s;
        out["dispersion_s"] = r.summary->dispersion_s;
        out["jitter_s"] = r.summary->jitter_s;
    }
    if (r.rejection) {
        out["rejected"] = {{"reason", proto::reply_verdict_name(r.rejection->verdict)},
                           {"header", header_json(r.rejection->header)}};
        if (r.rejection->verdict == proto::ReplyVerdict::kiss_of_death) {
            out["rejected"]["kiss_code"] = proto::refid_to_string(r.rejection->header.refid, 0);
        }
    }
    return out;
}

void print_human(const QueryArgs& args, const client::QueryResult& r,
                 const client::NtsSession* nts) {
    std::cout << fmt::format("server {} ({}): {} sent, {} answered, {} lost", args.target,
                             r.server.to_string(), r.sent, r.answered, r.lost);
    if (r.samples.size() != static_cast<std::size_t>(r.answered)) {
        std::cout << fmt::format(
            "; {} samples (an answer that starts the interleaved chain "
            "measures nothing)",
            r.samples.size());
    }
    std::cout << "\n";
    if (!r.summary) {
        return;
    }
    const auto& h = r.samples[r.summary->best_index].header;
    std::cout << fmt::format(
        "stratum {}, refid {}, leap {}, version {}, root delay {:.6f} s, root dispersion "
        "{:.6f} s\n",
        h.stratum, refid_text(h), proto::leap_name(h.leap), h.version, h.root_delay.to_seconds(),
        h.root_dispersion.to_seconds());
    std::cout << fmt::format("offset {:+.9f} s, delay {:.9f} s, jitter {:.9f} s\n",
                             r.summary->offset_s, r.summary->delay_s, r.summary->jitter_s);
    if (args.options.interleaved) {
        const int interleaved = interleaved_count(r);
        std::cout << (interleaved == 0
                          ? std::string("interleaved: the server answered in basic mode only\n")
                          : fmt::format("interleaved: {} of {} samples (the server's transmit "
                                        "times of the reply before; ours from the kernel: {})\n",
                                        interleaved, r.samples.size(), r.kernel_transmit));
    }
    if (nts != nullptr) {
        std::cout << fmt::format(
            "authenticated: NTS (AEAD_AES_SIV_CMAC_256, keys from {}), {} of {} samples; {} "
            "cookies received; {} unauthenticated replies ignored\n",
            nts->ke_server.to_string(), r.authenticated, r.samples.size(), nts->cookies_received,
            r.unauthenticated);
    }
}

std::string rejection_reason(const client::Rejection& rejection) {
    if (rejection.verdict == proto::ReplyVerdict::kiss_of_death) {
        return "kiss-of-death " + proto::refid_to_string(rejection.header.refid, 0);
    }
    return proto::reply_verdict_name(rejection.verdict);
}

// What happened, said once: with --json, `out` with "error" (if any) and "exit_code" is the
// one JSON object on stdout, so that a script reading stdout always gets one; an error is
// also said on stderr.
int conclude(const QueryArgs& args, const std::string& error, int exit_code, nlohmann::json out) {
    if (args.json) {
        if (!error.empty()) {
            out["error"] = error;
        }
        out["exit_code"] = exit_code;
        std::cout << out.dump(2) << "\n";
    }
    if (!error.empty()) {
        std::cerr << "cloudtime query: " << error << "\n";
    }
    return exit_code;
}

// An outcome without a measurement.
int no_measurement(const QueryArgs& args, const std::string& error, int exit_code) {
    return conclude(args, error, exit_code, {{"server", args.target}});
}

int run(const QueryArgs& args) {
    auto target = sys::split_host_port(args.target, kNtpPort);
    if (!target) {
        return no_measurement(args, target.error(), kExitUsage);
    }
    std::optional<client::NtsSession> nts;
    std::optional<sys::SocketAddress> server;
    if (args.nts) {
        auto session = client::establish_nts(target->host, args.nts_port, target->port, args.nts_ca,
                                             args.options.timeout_s);
        if (!session) {
            return no_measurement(args, args.target + ": " + session.error(), kExitNoAnswer);
        }
        nts.emplace(std::move(session).value());
        server = nts->ntp_server;
    } else {
        auto addresses = sys::resolve_udp(target->host, target->port);
        if (!addresses) {
            return no_measurement(args, addresses.error(), kExitNoAnswer);
        }
        server = addresses->front();
    }
    auto result = client::query_server(*server, args.options, nts ? &*nts : nullptr);
    if (!result) {
        return no_measurement(args, args.target + ": " + result.error(), kExitNoAnswer);
    }
    // What happened is said once: the measurement on stdout, or why there is none on stderr
    // (and, with --json, in the object: "error" and "exit_code").
    const std::string who = args.target + " (" + result->server.to_string() + ")";
    const auto requests = [&] {
        return std::to_string(result->sent) + (result->sent == 1 ? " request" : " requests");
    };
    std::string error;
    int exit_code = kExitOk;
    if (result->rejection) {
        error = who +
                ": answered, but the answer is unusable: " + rejection_reason(*result->rejection) +
                " (after " + requests() + ")";
        exit_code = kExitUnusable;
    } else if (result->samples.empty()) {
        error = who + ": no answer within " + fmt::format("{}", args.options.timeout_s) +
                " s to any of " + requests();
        exit_code = kExitNoAnswer;
    }
    if (!args.json && error.empty()) {
        print_human(args, *result, nts ? &*nts : nullptr);
    }
    return conclude(
        args, error, exit_code,
        args.json ? result_json(args, *result, nts ? &*nts : nullptr) : nlohmann::json{});
}

}  // namespace

Runner add_query_command(CLI::App& app) {
    auto args = std::make_shared<QueryArgs>();
    CLI::App* cmd = app.add_subcommand(
        "query",
        "Measure an NTP server: offset, delay, jitter and what it says of itself.\n"
        "Exit codes: 0 measured; 1 answered but unusable (kiss-of-death, "
        "unsynchronized); 2 no answer or network error; 64 usage error.");
    cmd->add_option("server", args->target, "HOST[:PORT] (IPv6 as [ADDR]:PORT; default port 123)")
        ->required();
    cmd->add_option("-n,--samples", args->options.samples, "requests to send (default 4)")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("-i,--interval", args->options.interval_s,
                    "seconds between requests (default 1)")
        ->check(CLI::Range(0.0, 3600.0));
    cmd->add_option("-t,--timeout", args->options.timeout_s,
                    "seconds to wait for each answer (default 2)")
        ->check(CLI::Range(0.001, 60.0));
    cmd->add_flag("-x,--interleaved", args->options.interleaved,
                  "interleaved mode (RFC 9769, chrony's xleave): each request names the one "
                  "before, and a server that does it answers with that reply's exact transmit "
                  "time; our transmit times are the kernel's. One request more than --samples");
    cmd->add_flag("--nts", args->nts,
                  "Network Time Security (RFC 8915): key establishment with HOST over TLS 1.3 "
                  "(its certificate must name HOST), then only authenticated replies count. "
                  "The NTP server is the one the key establishment names, else HOST[:PORT]");
    cmd->add_option("--nts-port", args->nts_port, "NTS-KE port (default 4460)")
        ->check(CLI::Range(1, 65535));
    cmd->add_option("--nts-ca", args->nts_ca,
                    "PEM file of the CA certificates to trust for NTS-KE (default: the system's)");
    cmd->add_flag("-j,--json", args->json, "print one JSON object");
    return [args] { return run(*args); };
}

}  // namespace cloudtime::cli
