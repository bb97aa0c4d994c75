// SPDX-License-Identifier: Apache-2.0
// `cloudtime bench [--rate R] [--duration S] [--sources N] [--threads T] [--interleaved]
// [--nts [--nts-ca FILE] [--nts-port PORT]] [--json] TARGET`
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "client/load_generator.hpp"
#include "net/multi_source_sender.hpp"
#include "net/socket_address.hpp"

namespace cloudtime::cli {

namespace {

struct BenchArgs {
    std::string target;
    client::LoadOptions options;
    bool nts = false;
    std::string nts_ca;
    std::uint16_t nts_port = client::kNtsKePort;
    bool json = false;
};

constexpr double kKeTimeoutS = 5.0;

nlohmann::json percentiles_json(const client::Percentiles& p) {
    return {{"p50_s", p.p50_s}, {"p99_s", p.p99_s}, {"p999_s", p.p999_s}};
}

double loss_ratio(const client::LoadReport& r) {
    return r.sent == 0 ? 0.0 : static_cast<double>(r.lost) / static_cast<double>(r.sent);
}

nlohmann::json report_json(const BenchArgs& args, const sys::SocketAddress& target,
                           const client::LoadReport& r) {
    return {{"target", target.to_string()},
            {"rate", args.options.rate},
            {"duration_s", args.options.duration_s},
            {"sources", args.options.sources},
            {"threads", args.options.threads},
            {"sent", r.sent},
            {"send_failures", r.send_failures},
            {"answered", r.answered},
            {"kod", r.kod},
            {"lost", r.lost},
            {"nts", args.nts},
            {"nts_naks", r.nts_naks},
            {"unauthenticated", r.unauthenticated},
            {"loss_ratio", loss_ratio(r)},
            {"reply_rate", r.reply_rate},
            {"elapsed_s", r.elapsed_s},
            {"sending_s", r.sending_s},
            {"latency", percentiles_json(r.latency)},
            {"server_processing", percentiles_json(r.server_processing)}};
}

std::string report_text(const sys::SocketAddress& target, const client::LoadReport& r) {
    return fmt::format(
        "{}: {} sent ({} not taken by the local kernel), {} answered, {} KoD, {} lost "
        "({:.3f} %)\nreply rate {:.0f}/s over {:.1f} s of sending\n"
        "latency p50 {:.1f} us, p99 {:.1f} us, p99.9 {:.1f} us\n"
        "server processing p50 {:.2f} us, p99 {:.2f} us, p99.9 {:.2f} us\n",
        target.to_string(), r.sent, r.send_failures, r.answered, r.kod, r.lost,
        100.0 * loss_ratio(r), r.reply_rate, r.sending_s, r.latency.p50_s * 1e6,
        r.latency.p99_s * 1e6, r.latency.p999_s * 1e6, r.server_processing.p50_s * 1e6,
        r.server_processing.p99_s * 1e6, r.server_processing.p999_s * 1e6);
}

int run(const BenchArgs& args) {
    auto target = sys::parse_socket_address(args.target, 123);
    if (!target) {
        std::cerr << "cloudtime bench: " << target.error() << "\n";
        return kExitUsage;
    }
    if (auto allowed = client::check_target_allowed(*target, sys::in_private_network_namespace());
        !allowed) {
        std::cerr << "cloudtime bench: " << allowed.error() << "\n";
        return kExitUsage;
    }
    // NTS: one key establishment before the load, with the address's own certificate check;
    // the load then goes where it named (which must be allowed too).
    std::optional<client::NtsSession> nts;
    client::LoadOptions options = args.options;
    if (args.nts) {
        auto session = client::establish_nts(target->host_string(), args.nts_port, target->port(),
                                             args.nts_ca, kKeTimeoutS);
        if (!session) {
            std::cerr << "cloudtime bench: " << session.error() << "\n";
            return kExitNoAnswer;
        }
        nts.emplace(std::move(session).value());
        options.nts = &*nts;
        if (auto allowed =
                client::check_target_allowed(nts->ntp_server, sys::in_private_network_namespace());
            !allowed) {
            std::cerr << "cloudtime bench: the key establishment named " << allowed.error() << "\n";
            return kExitUsage;
        }
        target = nts->ntp_server;
    }
    auto report = client::run_load(*target, options);
    if (!report) {
        std::cerr << "cloudtime bench: " << report.error() << "\n";
        return kExitNoAnswer;
    }
    if (args.json) {
        std::cout << report_json(args, *target, *report).dump(2) << "\n";
    } else {
        std::cout << report_text(*target, *report);
        if (args.nts) {
            std::cout << fmt::format(
                "NTS: cookie of {} octets, every reply verified: {} authentic, {} NAKs, {} that "
                "did not verify\n",
                nts->cookies.front().size(), report->answered, report->nts_naks,
                report->unauthenticated);
        }
    }
    return kExitOk;
}

}  // namespace

Runner add_bench_command(CLI::App& app) {
    auto args = std::make_shared<BenchArgs>();
    CLI::App* cmd = app.add_subcommand(
        "bench",
        "Load an NTP server on loopback (open loop, fixed rate, many sources) and measure it.\n"
        "Only loopback targets are allowed (link-local ones from inside a private network\n"
        "namespace). Exit codes: 0 ran; 2 could not run; 64 usage error or refused target.");
    cmd->add_option("target", args->target, "ADDR[:PORT] (IPv6 as [ADDR]:PORT; default port 123)")
        ->required();
    cmd->add_option("-r,--rate", args->options.rate, "requests per second (default 1000)")
        ->check(CLI::Range(1.0, 1e8));
    cmd->add_option("-d,--duration", args->options.duration_s, "seconds of sending (default 5)")
        ->check(CLI::Range(0.01, 3600.0));
    cmd->add_option("-s,--sources", args->options.sources,
                    "distinct source addresses from 127.1.0.1 up, never 127.0.0.0/16 (default 1)")
        ->check(CLI::Range(1U, 0x00FF'FFFEU));
    cmd->add_option("-T,--threads", args->options.threads, "sending threads (default 1)")
        ->check(CLI::Range(1U, 64U));
    cmd->add_option("--drain", args->options.drain_s,
                    "seconds to wait for late replies after sending (default 0.5)")
        ->check(CLI::Range(0.0, 60.0));
    cmd->add_flag("-x,--interleaved", args->options.interleaved,
                  "requests that name an earlier exchange, as an interleaved client's do: the "
                  "server's worst case (a record and a kernel transmit stamp per reply)");
    cmd->add_flag("--nts", args->nts,
                  "NTS (RFC 8915): a key establishment with TARGET's address first, then every "
                  "request authenticated and every reply verified");
    cmd->add_option("--nts-ca", args->nts_ca,
                    "with --nts: the CA certificate (PEM) to trust (default: the system's)");
    cmd->add_option("--nts-port", args->nts_port, "with --nts: the NTS-KE port (default 4460)")
        ->check(CLI::Range(1, 65535));
    cmd->add_flag("-j,--json", args->json, "print one JSON object");
    return [args] { return run(*args); };
}

}  // namespace cloudtime::cli
