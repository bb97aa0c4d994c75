// SPDX-License-Identifier: Apache-2.0
// cloudtimed's lifecycle: start the roles a config asks for, refresh the clock snapshot,
// answer signals, stop cleanly.
#pragma once

#include "config/config.hpp"
#include "daemon/config_loader.hpp"
#include "vendordata/vendordata_process.hpp"

namespace cloudtime::daemon {

using config::Config;  // the daemon runs what the config schema describes

// Runs until SIGTERM or SIGINT. Returns the process exit code: 0 after a clean stop,
// 1 when something could not start (the reason is logged).
struct RunOptions {
    // Test only: once started (and filtered), make a system call the filter forbids.
    bool forbidden_call_after_start = false;
};

// Runs `first` (as `loader` read it); SIGHUP makes `loader` read the config again and applies
// what a reload can (daemon/reload.hpp).
int run(const ConfigLoader& loader, LoadedConfig first, RunOptions options = {});

}  // namespace cloudtime::daemon
