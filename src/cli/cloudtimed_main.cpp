// cloudtimed: the cloudtime daemon.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string_view>

#include "cli/exit_codes.hpp"
#include "config/config.hpp"
#include "daemon/config_loader.hpp"
#include "daemon/daemon.hpp"
#include "daemon/preflight.hpp"
#include "sys/paths.hpp"
#include "vendordata/vendordata_service.hpp"

namespace ct = cloudtime;

int main(int argc, char** argv) {
    // The vendordata endpoint's own process, started by cloudtimed itself (not for operators).
    if (argc == 2 && std::string_view(argv[1]) == "--vendordata-process") {
        return ct::daemon::run_vendordata_process();
    }
    CLI::App app{
        "cloudtimed: serves this host's synchronized clock over NTP to the VMs of a cloud.\n"
        "Without --config it runs on its embedded default (NTP on 127.0.0.1:11123)."};
    app.set_version_flag("--version", std::string("cloudtimed ") + CLOUDTIME_VERSION);
    std::string config_path;
    std::vector<std::string> listen;
    int threads = -1;
    std::string log_level;
    std::optional<std::string> status_socket;
    std::string runtime_directory;
    bool check_only = false;
    bool print_default = false;
    ct::daemon::RunOptions run_options;
    app.add_option("-c,--config", config_path, "TOML config file (default: the embedded one)")
        ->check(CLI::ExistingFile);
    app.add_option("-l,--listen", listen,
                   "ADDR:PORT to serve NTP on, IPv6 as [ADDR]:PORT; repeatable; replaces "
                   "server.listen");
    app.add_option("-t,--threads", threads,
                   "worker threads, 0 = one per core; overrides "
                   "server.threads")
        ->check(CLI::Range(0, 1024));
    app.add_option("--status-socket", status_socket,
                   "where `cloudtime status` asks (\"\" for none); overrides status.socket");
    app.add_option("--runtime-directory", runtime_directory,
                   "absolute path of the runtime directory; overrides server.runtime_directory");
    app.add_option("--log-level", log_level,
                   "trace, debug, info, warn, error, critical or off; overrides log.level");
    app.add_flag("--check-config", check_only, "validate the configuration and exit");
    app.add_flag("--print-default-config", print_default, "print the embedded default and exit");
    // For the test that proves the seccomp filter kills: not for operators, not in --help.
    app.add_flag("--forbidden-call-after-start", run_options.forbidden_call_after_start)->group("");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? ct::cli::kExitOk : ct::cli::kExitUsage;
    }
    if (print_default) {
        std::cout << ct::config::default_config_text();
        return ct::cli::kExitOk;
    }

    ct::daemon::ConfigOverrides overrides;
    for (const auto& text : listen) {
        auto address = ct::sys::parse_socket_address(text);
        if (!address) {
            std::cerr << "cloudtimed: --listen " << address.error() << "\n";
            return ct::cli::kExitUsage;
        }
        overrides.listen.push_back(*address);
    }
    overrides.status_socket = status_socket;
    if (threads >= 0) {
        overrides.threads = static_cast<unsigned>(threads);
    }
    if (!runtime_directory.empty()) {
        if (runtime_directory.front() != '/') {
            std::cerr << "cloudtimed: --runtime-directory must be an absolute path\n";
            return ct::cli::kExitUsage;
        }
        overrides.runtime_directory = runtime_directory;
    }
    if (!log_level.empty()) {
        if (spdlog::level::from_str(log_level) == spdlog::level::off && log_level != "off") {
            std::cerr << "cloudtimed: --log-level '" << log_level << "' is not a log level\n";
            return ct::cli::kExitUsage;
        }
        overrides.log_level = log_level;
    }
    const ct::daemon::ConfigLoader loader(config_path, std::move(overrides));
    auto loaded = loader.load();
    if (!loaded) {
        std::cerr << "cloudtimed: " << loaded.error() << "\n";
        return ct::cli::kExitConfig;
    }
    const auto& config = loaded->config;
    if (check_only) {
        auto ready = ct::daemon::preflight(config);
        if (!ready) {
            std::cerr << "cloudtimed: " << ready.error() << "\n";
            return ct::cli::kExitConfig;
        }
        for (const auto& warning : ready->warnings) {
            std::cerr << "cloudtimed: warning: " << warning << "\n";
        }
        std::cout << "configuration OK\n";
        return ct::cli::kExitOk;
    }

    auto logger = spdlog::stderr_color_mt("cloudtimed");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    spdlog::flush_on(spdlog::level::info);
    spdlog::info("cloudtimed {} starting ({})", CLOUDTIME_VERSION, loader.origin());
    return ct::daemon::run(loader, std::move(loaded).value(), run_options);
}
