// SPDX-License-Identifier: Apache-2.0
// `cloudtime reload`: SIGHUP to the running cloudtimed, waiting until it has read its config
// again, and saying what happened: applied, rejected (the running config stays), or applied
// with keys only a restart applies. What a deployment tool (the Ansible role) acts on.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "cli/daemon_status.hpp"
#include "cli/exit_codes.hpp"
#include "sys/process.hpp"

namespace cloudtime::cli {

namespace {

inline constexpr int kExitRestartNeeded = 3;

struct ReloadArgs {
    std::string socket = kDefaultStatusSocket;
    double timeout_s = 10.0;
    bool json = false;
};

// What happened, said once: on stdout (applied), on stderr (why not), or as one JSON object.
struct Outcome {
    std::string result;  // applied, restart_needed, rejected, no_answer
    int pid = 0;
    std::string error;
    std::vector<std::string> restart_needed;

    // The exit status says the result (the command's --help lists them).
    int exit_code() const {
        return result == "applied"          ? kExitOk
               : result == "restart_needed" ? kExitRestartNeeded
               : result == "rejected"       ? kExitUnusable
                                            : kExitNoAnswer;
    }
};

std::uint64_t reload_count(const nlohmann::json& doc) {
    return doc.at("reload").at("count").get<std::uint64_t>();
}

Outcome no_answer(int pid, std::string why) {
    return {"no_answer", pid, std::move(why), {}};
}

Outcome reload(const ReloadArgs& args) {
    int pid = 0;
    try {
        const auto before = read_daemon_status(args.socket);
        if (!before) {
            return no_answer(pid, before.error());
        }
        const std::uint64_t count = reload_count(*before);
        pid = before->at("pid").get<int>();
        if (auto sent = sys::signal_process(pid, SIGHUP); !sent) {
            return no_answer(pid,
                             fmt::format("SIGHUP to cloudtimed (pid {}): {}", pid, sent.error()));
        }
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::duration<double>(args.timeout_s);
        while (true) {
            const auto after = read_daemon_status(args.socket);
            if (after && reload_count(*after) > count) {
                const auto& r = after->at("reload");
                if (!r.at("applied").get<bool>()) {
                    return {"rejected",
                            pid,
                            "rejected, the running configuration stays: " +
                                r.at("error").get<std::string>(),
                            {}};
                }
                auto keys = r.at("restart_needed").get<std::vector<std::string>>();
                if (!keys.empty()) {
                    return {"restart_needed", pid, {}, std::move(keys)};
                }
                return {"applied", pid, {}, {}};
            }
            if (std::chrono::steady_clock::now() > deadline) {
                return no_answer(
                    pid, fmt::format("cloudtimed (pid {}) did not report a reload "
                                     "within {} s{}",
                                     pid, args.timeout_s, after ? "" : ": " + after.error()));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    } catch (const nlohmann::json::exception& e) {
        return no_answer(pid, std::string("unexpected status document: ") + e.what());
    }
}

int run(const ReloadArgs& args) {
    const Outcome o = reload(args);
    if (args.json) {
        nlohmann::json out = {{"result", o.result},
                              {"exit_code", o.exit_code()},
                              {"restart_needed", o.restart_needed}};
        if (o.pid != 0) {
            out["pid"] = o.pid;
        }
        if (!o.error.empty()) {
            out["error"] = o.error;
        }
        std::cout << out.dump(2) << "\n";
    } else if (o.result == "applied") {
        std::cout << "reloaded: the configuration is applied\n";
    } else if (o.result == "restart_needed") {
        std::cout << fmt::format(
            "reloaded; changed since the start and applied only by a restart: {}\n",
            fmt::join(o.restart_needed, ", "));
    }
    if (!o.error.empty()) {
        std::cerr << "cloudtime reload: " << o.error << "\n";
    }
    return o.exit_code();
}

}  // namespace

Runner add_reload_command(CLI::App& app) {
    auto args = std::make_shared<ReloadArgs>();
    CLI::App* cmd = app.add_subcommand(
        "reload",
        "Make a running cloudtimed read its config again (SIGHUP) and wait until it has.\n"
        "Exit codes: 0 applied; 1 rejected (the running config stays; the reason is printed);\n"
        "2 no daemon answered or it did not reload in time; 3 applied, but keys changed that\n"
        "only a restart applies (listed); 64 usage error.");
    cmd->add_option("--socket", args->socket,
                    "cloudtimed's status socket (default /run/cloudtime/status.sock)");
    cmd->add_option("--timeout", args->timeout_s, "seconds to wait for the reload (default 10)")
        ->check(CLI::Range(0.1, 600.0));
    cmd->add_flag("-j,--json", args->json,
                  "print one JSON object: result (applied, restart_needed, rejected, no_answer), "
                  "exit_code, restart_needed, pid, error");
    return [args] { return run(*args); };
}

}  // namespace cloudtime::cli
