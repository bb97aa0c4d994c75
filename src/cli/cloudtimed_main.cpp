// SPDX-License-Identifier: Apache-2.0
// cloudtimed: the cloudtime daemon.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/exit_codes.hpp"
#include "config/config.hpp"
#include "daemon/config_loader.hpp"
#include "daemon/daemon.hpp"
#include "daemon/preflight.hpp"
#include "sys/log_output.hpp"
#include "sys/paths.hpp"
#include "vendordata/vendordata_service.hpp"

namespace ct = cloudtime;

namespace {

// The command line as given.
struct Flags {
    std::string config_path;
    std::vector<std::string> listen;
    int threads = -1;
    std::string log_level;
    std::optional<std::string> status_socket;
    std::string runtime_directory;
    bool check_only = false;
    bool print_default = false;
    ct::daemon::RunOptions run_options;
};

void add_flags(CLI::App& app, Flags& f) {
    app.set_version_flag("--version", std::string("cloudtimed ") + CLOUDTIME_VERSION);
    // Not CLI::ExistingFile: a config that cannot be read is a configuration error (exit 78,
    // which the unit does not restart on), said by the loader with the file's name.
    app.add_option("-c,--config", f.config_path, "TOML config file (default: the embedded one)");
    app.add_option("-l,--listen", f.listen,
                   "ADDR:PORT to serve NTP on, IPv6 as [ADDR]:PORT; repeatable; replaces "
                   "server.listen");
    app.add_option("-t,--threads", f.threads,
                   "worker threads, 0 = one per core; overrides "
                   "server.threads")
        ->check(CLI::Range(0, 1024));
    app.add_option("--status-socket", f.status_socket,
                   "where `cloudtime status` asks (\"\" for none); overrides status.socket");
    app.add_option("--runtime-directory", f.runtime_directory,
                   "absolute path of the runtime directory; overrides server.runtime_directory");
    app.add_option("--log-level", f.log_level,
                   "trace, debug, info, warn, error, critical or off; overrides log.level");
    app.add_flag("--check-config", f.check_only, "validate the configuration and exit");
    app.add_flag("--print-default-config", f.print_default, "print the embedded default and exit");
    // For the test that proves the seccomp filter kills: not for operators, not in --help.
    app.add_flag("--forbidden-call-after-start", f.run_options.forbidden_call_after_start)
        ->group("");
}

// The flags that replace config keys, checked: a bad one is a usage error before anything
// is read.
ct::Expected<ct::daemon::ConfigOverrides> overrides_from(const Flags& f) {
    ct::daemon::ConfigOverrides overrides;
    for (const auto& text : f.listen) {
        auto address = ct::sys::parse_socket_address(text);
        if (!address) {
            return ct::Error{"--listen " + address.error()};
        }
        if (address->port() != 0 &&
            std::ranges::find(overrides.listen, *address) != overrides.listen.end()) {
            return ct::Error{"--listen " + address->to_string() + " is given twice"};
        }
        overrides.listen.push_back(*address);
    }
    overrides.status_socket = f.status_socket;
    if (f.threads >= 0) {
        overrides.threads = static_cast<unsigned>(f.threads);
    }
    if (!f.runtime_directory.empty()) {
        if (f.runtime_directory.front() != '/') {
            return ct::Error{"--runtime-directory must be an absolute path"};
        }
        overrides.runtime_directory = f.runtime_directory;
    }
    if (!f.log_level.empty()) {
        if (spdlog::level::from_str(f.log_level) == spdlog::level::off && f.log_level != "off") {
            return ct::Error{"--log-level '" + f.log_level + "' is not a log level"};
        }
        overrides.log_level = f.log_level;
    }
    return overrides;
}

// --check-config: what the start would refuse, refused now.
int check_config(const ct::config::Config& config) {
    auto ready = ct::daemon::preflight(config);
    if (!ready) {
        ct::sys::print_error("cloudtimed", ready.error());
        return ct::cli::kExitConfig;
    }
    for (const auto& warning : ready->warnings) {
        ct::sys::print_warning("cloudtimed", warning);
    }
    std::cout << "configuration OK\n";
    return ct::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    // The vendordata endpoint's own process, started by cloudtimed itself (not for operators).
    if (argc == 2 && std::string_view(argv[1]) == "--vendordata-process") {
        return ct::daemon::run_vendordata_process();
    }
    CLI::App app{
        "cloudtimed: serves this host's synchronized clock over NTP to the VMs of a cloud.\n"
        "Without --config it runs on its embedded default (NTP on 127.0.0.1:11123)."};
    Flags flags;
    add_flags(app, flags);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? ct::cli::kExitOk : ct::cli::kExitUsage;
    }
    if (flags.print_default) {
        std::cout << ct::config::default_config_text();
        return ct::cli::kExitOk;
    }
    auto overrides = overrides_from(flags);
    if (!overrides) {
        ct::sys::print_error("cloudtimed", overrides.error());
        return ct::cli::kExitUsage;
    }
    const ct::daemon::ConfigLoader loader(flags.config_path, std::move(overrides).value());
    auto loaded = loader.load();
    if (!loaded) {
        ct::sys::print_error("cloudtimed", loaded.error());
        return ct::cli::kExitConfig;
    }
    if (flags.check_only) {
        return check_config(loaded->config);
    }
    ct::sys::start_logging("cloudtimed", loaded->config.log_level);
    spdlog::info("cloudtimed {} starting ({})", CLOUDTIME_VERSION, loader.origin());
    return ct::daemon::run(loader, std::move(loaded).value(), flags.run_options);
}
