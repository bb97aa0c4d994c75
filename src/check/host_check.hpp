// SPDX-License-Identifier: Apache-2.0
// `cloudtime host-check`: is this hypervisor ready to serve time to its VMs? Facts are gathered
// from the system (gather_host_facts), then judged by pure rules (evaluate_host), so that the
// rules are tested without a hypervisor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "check/check_result.hpp"
#include "client/query.hpp"
#include "proto/chrony_command.hpp"
#include "proto/leap_seconds.hpp"
#include "sys/clock.hpp"
#include "util/expected.hpp"

namespace cloudtime::check {

struct HostThresholds {
    double offset_warn_s = 0.001;  // a hypervisor serves its VMs: hold it to a millisecond
    double offset_fail_s = 0.050;  // Ceph's default allowed drift
    double root_distance_warn_s = 0.050;
    double root_distance_fail_s = 1.0;
};

struct HostFacts {
    proto::UnixTime now;
    Expected<sys::KernelTimeState> kernel = Error{"not read"};
    std::string chrony_socket;
    // Whether the socket could be seen: ENOENT (no chronyd) and EACCES (not allowed to look
    // into /run/chrony) are different answers.
    Status chrony_socket_seen = Error{"not looked at"};
    Expected<proto::ChronyTracking> chrony = Error{"not asked"};
    Expected<std::string> clocksource = Error{"not read"};
    Expected<bool> kvm = Error{"not read"};  // /dev/kvm is a character device
    std::string leap_seconds_file;
    Expected<proto::LeapSchedule> leap_seconds = Error{"not read"};
    std::optional<std::string> cloudtimed_target;  // none: not configured
    Expected<client::QueryResult> cloudtimed = Error{"not asked"};
};

struct HostCheckOptions {
    std::string chrony_socket = "/run/chrony/chronyd.sock";
    std::string leap_seconds_file = "/usr/share/zoneinfo/leap-seconds.list";
    std::string clocksource_file =
        "/sys/devices/system/clocksource/clocksource0/current_clocksource";
    std::string kvm_device = "/dev/kvm";
    std::optional<std::string> cloudtimed;  // ADDR:PORT of a local cloudtimed to query
};

HostFacts gather_host_facts(const HostCheckOptions& options);
std::vector<CheckResult> evaluate_host(const HostFacts& facts, const HostThresholds& thresholds);

}  // namespace cloudtime::check
