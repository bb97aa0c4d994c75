// SPDX-License-Identifier: Apache-2.0
#include "sys/phc.hpp"

#include <fcntl.h>
#include <linux/ptp_clock.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <filesystem>
#include <limits>

#include "sys/fd.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::sys {

namespace {
double seconds(const ptp_clock_time& t) {
    return static_cast<double>(t.sec) + static_cast<double>(t.nsec) * 1e-9;
}
}  // namespace

Expected<std::vector<PtpClockInfo>> list_ptp_clocks(const std::string& sysfs_dir,
                                                    const std::string& dev_dir) {
    std::vector<PtpClockInfo> clocks;
    std::error_code ec;
    if (!std::filesystem::exists(sysfs_dir, ec)) {
        return clocks;
    }
    for (const auto& entry : std::filesystem::directory_iterator(sysfs_dir, ec)) {
        const std::string name = entry.path().filename().string();
        auto clock_name = read_text_file(entry.path().string() + "/clock_name");
        if (!clock_name) {
            continue;  // not a clock
        }
        std::string text = *clock_name;
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
            text.pop_back();
        }
        clocks.push_back({name, text, dev_dir + "/" + name});
    }
    if (ec) {
        return Error{sysfs_dir + ": " + ec.message()};
    }
    std::sort(clocks.begin(), clocks.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return clocks;
}

Expected<PhcOffset> read_phc_offset(const std::string& device) {
    const UniqueFd fd(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return os_error(device);
    }
    ptp_sys_offset_precise precise{};
    if (::ioctl(fd.get(), PTP_SYS_OFFSET_PRECISE, &precise) == 0) {
        return PhcOffset{seconds(precise.device) - seconds(precise.sys_realtime), 0.0, "precise"};
    }
    ptp_sys_offset_extended extended{};
    extended.n_samples = 5;
    if (::ioctl(fd.get(), PTP_SYS_OFFSET_EXTENDED, &extended) != 0) {
        return os_error(device + ": PTP_SYS_OFFSET_EXTENDED");
    }
    PhcOffset best{0.0, std::numeric_limits<double>::max(), "extended"};
    for (unsigned i = 0; i < extended.n_samples; ++i) {
        const double before = seconds(extended.ts[i][0]);
        const double phc = seconds(extended.ts[i][1]);
        const double after = seconds(extended.ts[i][2]);
        if (after - before < best.delay_s) {
            best.delay_s = after - before;
            best.offset_s = phc - (before + after) / 2;
        }
    }
    return best;
}

}  // namespace cloudtime::sys
