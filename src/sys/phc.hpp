// SPDX-License-Identifier: Apache-2.0
// PTP hardware clocks (PHC) as a VM sees them: the KVM virtual PTP clock, Hyper-V's, vmclock,
// ENA's and others, listed from sysfs and read against the system clock.
#pragma once

#include <string>
#include <vector>

#include "util/expected.hpp"

namespace cloudtime::sys {

struct PtpClockInfo {
    std::string name;        // "ptp0"
    std::string clock_name;  // "KVM virtual PTP"
    std::string device;      // "/dev/ptp0": the device itself, not a udev link to it
};

// The clocks under `sysfs_dir` (/sys/class/ptp), each with its device under `dev_dir`.
// An absent directory is no clocks, not an error.
Expected<std::vector<PtpClockInfo>> list_ptp_clocks(const std::string& sysfs_dir,
                                                    const std::string& dev_dir);

struct PhcOffset {
    double offset_s = 0.0;  // the PHC minus the system clock (CLOCK_REALTIME)
    double delay_s = 0.0;   // how long the read took (0 for a precise, cross-timestamped one)
    std::string method;     // "precise" or "extended"
};

// PTP_SYS_OFFSET_PRECISE where the driver offers it, else the best of PTP_SYS_OFFSET_EXTENDED
// samples. Errors say why ("Permission denied": the device is root's).
Expected<PhcOffset> read_phc_offset(const std::string& device);

}  // namespace cloudtime::sys
