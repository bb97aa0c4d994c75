// SPDX-License-Identifier: Apache-2.0
// The facts a VM's gatherer (src/check/guest_facts.py, given to the VM as user-data) printed on
// its console, read back on a host (`openstack console log show`) and turned into the VmFacts
// that `cloudtime check` judges inside a VM: the same parsers of the channels' texts, chrony's
// view from chronyc's CSV, and every NTP exchange made into samples by the client's own
// arithmetic. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "check/vm_check.hpp"
#include "util/expected.hpp"

namespace cloudtime::check {

// The last whole record in a console log: its lines may be anywhere between the kernel's and
// the services' own, with carriage returns; a record whose lines are missing or garbled (its
// CRC-32 differs) is an error that says so.
Expected<nlohmann::json> read_console_record(std::string_view console);

struct GuestFacts {
    VmFacts facts;
    double began = 0.0;  // the guest's clock (Unix seconds) when the gatherer started
    // When the gatherer first saw the VM's client synchronized (it waits for that), by the
    // guest's clock and by its uptime; nullopt when it never did within its wait.
    std::optional<double> synchronized_at;
    std::optional<double> synchronized_uptime_s;
    // When chronyd had slewed its first offset away (timesyncd steps: then at once).
    std::optional<double> settled_at;
};

Expected<GuestFacts> facts_from_record(const nlohmann::json& record);

// The user-data part that gathers them: a POSIX shell script that runs the gatherer with the
// guest's Python 3 (cloud-init's own), after cloud-init's config stage.
std::string gatherer_user_data(int wait_s);

}  // namespace cloudtime::check
