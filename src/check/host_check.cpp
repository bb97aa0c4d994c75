// SPDX-License-Identifier: Apache-2.0
#include "check/host_check.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "net/resolve.hpp"
#include "peers/chrony_control.hpp"
#include "proto/refid.hpp"
#include "sys/paths.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::check {

namespace {
constexpr int kChronyTimeoutMs = 1000;
constexpr double kDay = 86'400.0;

Expected<std::string> read_first_line(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return Error{path + ": " + std::strerror(errno)};
    }
    std::string line;
    std::getline(in, line);
    return line;
}

CheckResult kernel_check(const HostFacts& f) {
    CheckResult r{"kernel-clock-synchronized", "system clock synchronized (kernel)", Verdict::fail,
                  ""};
    if (!f.kernel) {
        r.verdict = Verdict::abort;
        r.reason = "cannot read the kernel's clock state: " + f.kernel.error();
        return r;
    }
    if (!f.kernel->synchronized) {
        r.reason =
            "the kernel says the clock is not synchronized (STA_UNSYNC): no time daemon "
            "is disciplining it";
        return r;
    }
    r.verdict = Verdict::pass;
    r.reason = "synchronized; maximum error " + seconds_text(f.kernel->max_error_s) +
               ", estimated error " + seconds_text(f.kernel->est_error_s);
    return r;
}

CheckResult chrony_check(const HostFacts& f, const HostThresholds& t) {
    CheckResult r{"chrony-synchronized", "chronyd synchronized, offset and root distance",
                  Verdict::fail, ""};
    if (!f.chrony_socket_seen) {
        if (is_permission_denied(f.chrony_socket_seen.failure())) {
            r.verdict = Verdict::abort;
            r.reason = "not allowed to see chronyd's command socket (" +
                       f.chrony_socket_seen.error() + "): run as root or as chrony's group";
        } else {
            r.verdict = Verdict::skip;
            r.reason = "no chronyd command socket at " + f.chrony_socket;
        }
        return r;
    }
    if (!f.chrony) {
        const bool denied = is_permission_denied(f.chrony.failure());
        r.verdict = denied ? Verdict::abort : Verdict::fail;
        r.reason = (denied ? "not allowed to ask chronyd (run as root or as chrony's group): "
                           : "chronyd does not answer: ") +
                   f.chrony.error();
        return r;
    }
    const proto::ChronyTracking& c = *f.chrony;
    if (c.leap == proto::ChronyLeap::unsynchronized || c.stratum == 0) {
        r.reason = "chronyd is not synchronized to any source";
        return r;
    }
    const double age = std::max(0.0, static_cast<double>(f.now.ns - c.ref_time.ns) / 1e9);
    const double distance = c.root_delay_s / 2.0 + c.root_dispersion_s + 15e-6 * age;
    const double offset = std::fabs(c.current_correction_s);
    r.reason = "stratum " + std::to_string(c.stratum) + ", offset " +
               seconds_text(c.current_correction_s) + ", root distance " + seconds_text(distance) +
               ", last update " + seconds_text(age) + " ago";
    if (offset > t.offset_fail_s || distance > t.root_distance_fail_s) {
        r.verdict = Verdict::fail;
    } else if (offset > t.offset_warn_s || distance > t.root_distance_warn_s) {
        r.verdict = Verdict::warn;
    } else {
        r.verdict = Verdict::pass;
    }
    return r;
}

CheckResult leap_status_check(const HostFacts& f) {
    CheckResult r{"leap-status", "leap status", Verdict::pass, ""};
    if (f.chrony_socket_seen && f.chrony) {
        const char* names[] = {"normal", "a second will be inserted today",
                               "a second will be deleted today", "unsynchronized"};
        r.reason = std::string("chronyd: ") + names[static_cast<int>(f.chrony->leap)];
        r.verdict =
            f.chrony->leap == proto::ChronyLeap::unsynchronized ? Verdict::fail : Verdict::pass;
        return r;
    }
    if (!f.kernel) {
        r.verdict = Verdict::abort;
        r.reason = "cannot read the kernel's leap state: " + f.kernel.error();
        return r;
    }
    if (!f.kernel->synchronized) {
        r.verdict = Verdict::fail;
        r.reason = "kernel: unsynchronized, so the leap state means nothing";
        return r;
    }
    r.reason = f.kernel->insert_leap   ? "kernel: a second will be inserted today"
               : f.kernel->delete_leap ? "kernel: a second will be deleted today"
                                       : "kernel: normal";
    return r;
}

CheckResult clocksource_check(const HostFacts& f) {
    CheckResult r{"clocksource-tsc", "clocksource is tsc (guests' KVM PTP clock needs it)",
                  Verdict::fail, ""};
    if (!f.clocksource) {
        r.verdict = Verdict::abort;
        r.reason = "cannot read the clocksource: " + f.clocksource.error();
        return r;
    }
    if (*f.clocksource == "tsc") {
        r.verdict = Verdict::pass;
        r.reason = "tsc";
    } else {
        r.reason = "the clocksource is '" + *f.clocksource +
                   "': ptp_kvm in guests cannot give precise cross-timestamps without tsc";
    }
    return r;
}

CheckResult kvm_check(const HostFacts& f) {
    CheckResult r{"kvm-present", "/dev/kvm present", Verdict::fail, ""};
    if (!f.kvm) {
        r.verdict = Verdict::abort;
        r.reason = f.kvm.error();
    } else if (*f.kvm) {
        r.verdict = Verdict::pass;
        r.reason = "KVM is available";
    } else {
        r.reason = "no /dev/kvm: this is not a KVM hypervisor (or the module is not loaded)";
    }
    return r;
}

CheckResult leap_list_check(const HostFacts& f) {
    CheckResult r{"leap-seconds-list", "leap-seconds.list valid and not expired", Verdict::fail,
                  ""};
    if (!f.leap_seconds) {
        r.reason = f.leap_seconds_file + ": " + f.leap_seconds.error();
        return r;
    }
    const double days = static_cast<double>(f.leap_seconds->expires.ns - f.now.ns) / 1e9 / kDay;
    const int tai = f.leap_seconds->entries.back().tai_offset;
    if (days <= 0.0) {
        r.verdict = Verdict::warn;
        r.reason = f.leap_seconds_file + " expired " + std::to_string(static_cast<int>(-days)) +
                   " days ago (TAI-UTC " + std::to_string(tai) +
                   " s): update tzdata, or leap seconds announced after it are unknown here";
    } else {
        r.verdict = Verdict::pass;
        r.reason = f.leap_seconds_file + ": TAI-UTC " + std::to_string(tai) + " s, valid " +
                   std::to_string(static_cast<int>(days)) + " more days";
    }
    return r;
}

CheckResult cloudtimed_check(const HostFacts& f, const HostThresholds& t) {
    CheckResult r{"cloudtimed-answers", "a local cloudtimed answers, synchronized", Verdict::fail,
                  ""};
    if (!f.cloudtimed_target) {
        r.verdict = Verdict::skip;
        r.reason = "no cloudtimed to ask (--cloudtimed ADDR:PORT)";
        return r;
    }
    const std::string& target = *f.cloudtimed_target;
    if (!f.cloudtimed) {
        r.reason = target + ": " + f.cloudtimed.error();
        return r;
    }
    const client::QueryResult& q = *f.cloudtimed;
    if (q.rejection) {
        const proto::Header& h = q.rejection->header;
        r.reason = target + " answers but " +
                   (h.stratum == 0 && proto::is_kiss_code(h.refid)
                        ? "with a kiss code " + proto::refid_to_string(h.refid, 0)
                        : std::string("unsynchronized (LI=3)"));
        return r;
    }
    if (!q.summary) {
        r.reason = target + ": no answer to " + std::to_string(q.sent) + " requests";
        return r;
    }
    const double offset = q.summary->offset_s;
    const auto& best = q.samples[q.summary->best_index].header;
    r.reason = target + ": stratum " + std::to_string(best.stratum) + ", offset " +
               seconds_text(offset) + ", delay " + seconds_text(q.summary->delay_s);
    r.verdict = std::fabs(offset) > t.offset_fail_s   ? Verdict::fail
                : std::fabs(offset) > t.offset_warn_s ? Verdict::warn
                                                      : Verdict::pass;
    return r;
}
}  // namespace

HostFacts gather_host_facts(const HostCheckOptions& o) {
    HostFacts f;
    f.now = sys::realtime_now();
    f.kernel = sys::read_kernel_time_state();
    f.chrony_socket = o.chrony_socket;
    if (const auto kind = sys::file_kind(o.chrony_socket); kind) {
        f.chrony_socket_seen = Done{};
    } else {
        f.chrony_socket_seen = kind.failure();
    }
    if (f.chrony_socket_seen) {
        sys::ChronyControl chrony(o.chrony_socket);
        f.chrony = chrony.tracking(kChronyTimeoutMs);
    }
    f.clocksource = read_first_line(o.clocksource_file);
    if (const auto kvm = sys::file_kind(o.kvm_device); kvm) {
        f.kvm = *kvm == sys::FileKind::character_device;
    } else if (kvm.error_code() == ENOENT) {
        f.kvm = false;
    } else {
        f.kvm = kvm.failure();
    }
    f.leap_seconds_file = o.leap_seconds_file;
    const auto text = sys::read_text_file(o.leap_seconds_file, proto::kLeapSecondsFileLimit);
    f.leap_seconds =
        text ? proto::parse_leap_seconds(*text) : Expected<proto::LeapSchedule>(text.failure());
    f.cloudtimed_target = o.cloudtimed;
    if (o.cloudtimed) {
        auto target = sys::split_host_port(*o.cloudtimed, 123);
        auto addresses = target ? sys::resolve_udp(target->host, target->port)
                                : Expected<std::vector<sys::SocketAddress>>(target.failure());
        if (!addresses) {
            f.cloudtimed = addresses.failure();
        } else {
            f.cloudtimed = client::query_server(addresses->front(),
                                                {.samples = 4, .interval_s = 0.2, .timeout_s = 1});
        }
    }
    return f;
}

std::vector<CheckResult> evaluate_host(const HostFacts& f, const HostThresholds& t) {
    return {kernel_check(f), chrony_check(f, t), leap_status_check(f),  clocksource_check(f),
            kvm_check(f),    leap_list_check(f), cloudtimed_check(f, t)};
}

}  // namespace cloudtime::check
