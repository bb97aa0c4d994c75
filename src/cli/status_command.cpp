// SPDX-License-Identifier: Apache-2.0
// `cloudtime status [--socket PATH] [--json]`: ask a running cloudtimed what it is doing.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdint>
#include <ctime>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/daemon_status.hpp"
#include "cli/exit_codes.hpp"

namespace cloudtime::cli {

namespace {

struct StatusArgs {
    std::string socket = kDefaultStatusSocket;
    bool json = false;
};

// "3 d 4 h", "2 h 5 min", "12 min 3 s", "41 s": the two largest units.
std::string duration_text(double seconds) {
    const auto s = static_cast<std::int64_t>(seconds < 0 ? 0 : seconds);
    if (s >= 86'400) {
        return fmt::format("{} d {} h", s / 86'400, s % 86'400 / 3'600);
    }
    if (s >= 3'600) {
        return fmt::format("{} h {} min", s / 3'600, s % 3'600 / 60);
    }
    if (s >= 60) {
        return fmt::format("{} min {} s", s / 60, s % 60);
    }
    return fmt::format("{} s", s);
}

int run(const StatusArgs& args) {
    const auto read = read_daemon_status(args.socket);
    if (!read) {
        std::cerr << "cloudtime status: " << read.error() << "\n";
        return kExitNoAnswer;
    }
    const nlohmann::json& doc = *read;
    if (args.json) {
        std::cout << doc.dump(2) << "\n";
        return kExitOk;
    }
    try {
        const auto& c = doc.at("clock");
        std::cout << fmt::format("cloudtimed {} (pid {}), up {}\n",
                                 doc.at("version").get<std::string>(), doc.at("pid").get<int>(),
                                 duration_text(doc.at("uptime_s").get<double>()));
        if (const double reference = c.value("reference_time_s", 0.0); reference > 0) {
            std::cout << fmt::format(
                "reference time {:%Y-%m-%dT%H:%M:%S}Z ({} ago): when the upstream last set or "
                "corrected the clock served\n",
                fmt::gmtime(static_cast<std::time_t>(reference)),
                duration_text(doc.at("started_s").get<double>() + doc.at("uptime_s").get<double>() -
                              reference));
        }
        std::cout << fmt::format(
            "clock {} ({}), stratum {}, refid {}, leap {}, root dispersion {:.6f} s{}\n",
            c.at("source").get<std::string>(),
            c.at("synchronized").get<bool>() ? "synchronized" : "NOT synchronized",
            c.at("stratum").get<int>(), c.at("refid").get<std::string>(),
            c.at("leap").get<std::string>(), c.at("root_dispersion_s").get<double>(),
            c.at("smearing").get<bool>() ? ", smearing a leap second" : "");
        const auto& n = doc.at("counters");
        std::cout << fmt::format(
            "serving {} with {} threads: received {}, answered {} ({} interleaved, {} of them "
            "with the kernel's transmit time), dropped {}\n",
            doc.at("listen").dump(), doc.at("threads").get<int>(),
            n.at("received").get<std::uint64_t>(), n.at("answered").get<std::uint64_t>(),
            n.value("interleaved", std::uint64_t{0}),
            n.value("interleaved_tx", nlohmann::json::object()).value("kernel", std::uint64_t{0}),
            n.at("dropped").get<std::uint64_t>());
        const auto& networks = doc.at("tenant_networks");
        std::cout << networks.size() << " tenant networks\n";
        for (const auto& t : networks) {
            std::string addresses;
            for (const auto& a : t.at("addresses")) {
                addresses += (addresses.empty() ? "" : ", ") + a.get<std::string>();
            }
            std::cout << fmt::format("  {}  {}  received {}, answered {}\n",
                                     t.at("namespace").get<std::string>(), addresses,
                                     t.at("received").get<std::uint64_t>(),
                                     t.at("answered").get<std::uint64_t>());
        }
        if (doc.contains("vendordata")) {
            const auto& v = doc.at("vendordata");
            std::cout << fmt::format(
                "vendordata at {}: answered {}, refused {}\n", v.at("url").get<std::string>(),
                v.at("answered").get<std::uint64_t>(), v.at("refused").get<std::uint64_t>());
        }
        if (const auto& r = doc.at("reload"); !r.at("applied").get<bool>()) {
            std::cout << "the last reload was rejected: " << r.at("error").get<std::string>()
                      << "\n";
        }
        if (const auto& keys = doc.at("reload").at("restart_needed"); !keys.empty()) {
            std::cout << "changed since the start, applied only by a restart: "
                      << fmt::format("{}", fmt::join(keys.get<std::vector<std::string>>(), ", "))
                      << "\n";
        }
    } catch (const nlohmann::json::exception& e) {
        std::cerr << "cloudtime status: unexpected status document: " << e.what() << "\n";
        return kExitNoAnswer;
    }
    return kExitOk;
}

}  // namespace

Runner add_status_command(CLI::App& app) {
    auto args = std::make_shared<StatusArgs>();
    CLI::App* cmd = app.add_subcommand(
        "status",
        "Ask a running cloudtimed for its state: clock, counters, tenant networks.\n"
        "Exit codes: 0 answered; 2 no daemon answered; 64 usage error.");
    cmd->add_option("--socket", args->socket,
                    "cloudtimed's status socket (default /run/cloudtime/status.sock)");
    cmd->add_flag("-j,--json", args->json, "print the daemon's JSON document");
    return [args] { return run(*args); };
}

}  // namespace cloudtime::cli
