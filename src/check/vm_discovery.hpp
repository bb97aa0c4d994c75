// SPDX-License-Identifier: Apache-2.0
// Gathering what `cloudtime check` judges, from inside the VM: the metadata service, config
// drives, DHCP leases, link-local NTP addresses, PTP clocks, the running NTP client, and a
// measurement of every server found. Needs no root; what needs it is reported as such.
#pragma once

#include <string>
#include <vector>

#include "check/vm_check.hpp"

namespace cloudtime::check {

struct VmCheckOptions {
    std::string metadata_url = "http://169.254.169.254/openstack/latest/";  // "" = skip
    double metadata_timeout_s = 2.0;
    // Directories where a config drive may be mounted (its openstack/latest/ inside), and the
    // device node a not-yet-mounted one appears as.
    std::vector<std::string> config_drives = {"/mnt/config", "/media/config-2",
                                              "/run/cloudtime/config-2"};
    std::string config_drive_device = "/dev/disk/by-label/config-2";
    std::vector<std::string> lease_files = {
        "/var/lib/dhcp/dhclient*.leases", "/var/lib/dhclient/*.lease*",
        "/run/systemd/netif/leases/*",    "/var/lib/NetworkManager/*.lease",
        "/run/NetworkManager/devices/*",
    };
    // Probed on UDP 123; an IPv6 link-local one on every interface that is up.
    std::vector<std::string> link_local = {"169.254.169.254", "169.254.169.123", "fe80::a9fe:a9fe"};
    std::string chrony_socket = "/run/chrony/chronyd.sock";
    std::string timesyncd_flag = "/run/systemd/timesync/synchronized";
    std::vector<std::string> timesyncd_configs = {"/etc/systemd/timesyncd.conf",
                                                  "/etc/systemd/timesyncd.conf.d/*.conf",
                                                  "/run/systemd/timesyncd.conf.d/*.conf"};
    std::string ptp_sysfs = "/sys/class/ptp";
    std::string cloud_init = "cloud-init";  // asked for its --version
    std::string dev_dir = "/dev";
    client::QueryOptions measurement{.samples = 4, .interval_s = 0.25, .timeout_s = 1.0};
    double probe_timeout_s = 0.5;
};

VmFacts gather_vm_facts(const VmCheckOptions& options);

}  // namespace cloudtime::check
