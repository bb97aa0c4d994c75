// SPDX-License-Identifier: Apache-2.0
#include "clock/chrony_source.hpp"

#include <spdlog/spdlog.h>

#include <cmath>

#include "proto/refid.hpp"

namespace cloudtime::server {

namespace {
// Well inside the clock thread's one-second period, so that loss shows within 2 s.
constexpr int kReplyTimeoutMs = 500;
constexpr std::uint16_t kMaxUpstreamStratum = 14;  // we serve one more; 16 is unsynchronized
}  // namespace

proto::ClockSnapshot snapshot_from_chrony(const proto::ChronyTracking& t, std::int8_t precision) {
    proto::ClockSnapshot s;
    s.precision = precision;
    if (t.leap == proto::ChronyLeap::unsynchronized || t.stratum == 0 ||
        t.stratum > kMaxUpstreamStratum) {
        return s;
    }
    s.synchronized = true;
    s.leap = t.leap == proto::ChronyLeap::insert   ? proto::Leap::insert_second
             : t.leap == proto::ChronyLeap::remove ? proto::Leap::delete_second
                                                   : proto::Leap::none;
    s.stratum = static_cast<std::uint8_t>(t.stratum + 1);
    switch (t.family) {
        case proto::ChronyAddressFamily::inet4:
            s.refid = proto::load_u32(t.address);
            break;
        case proto::ChronyAddressFamily::inet6:
            s.refid = proto::refid_from_ipv6(t.address);
            break;
        default:
            s.refid = t.ref_id;
    }
    s.root_delay_s = t.root_delay_s;
    s.root_dispersion_s = t.root_dispersion_s + std::fabs(t.current_correction_s);
    s.dispersion_epoch = t.ref_time;
    s.reference_time = t.ref_time;
    return s;
}

ChronyClockSource::ChronyClockSource(sys::ChronyControl chrony, std::int8_t precision)
    : chrony_(std::move(chrony)), precision_(precision) {}

proto::ClockSnapshot ChronyClockSource::refresh(proto::UnixTime /*now*/) {
    auto tracking = chrony_.tracking(kReplyTimeoutMs);
    std::string problem;
    proto::ClockSnapshot s;
    s.precision = precision_;
    if (!tracking) {
        problem = "chronyd at " + chrony_.where() + ": " + tracking.error();
        s.source_interrupted = true;
    } else {
        s = snapshot_from_chrony(*tracking, precision_);
        if (!s.synchronized) {
            // No reference time at all: a chronyd that has just started and not synchronized
            // yet, not one that lost synchronization.
            s.source_interrupted = tracking->ref_time.ns == 0;
            problem = s.source_interrupted ? "chronyd has not synchronized since it started"
                                           : "chronyd is not synchronized";
        }
    }
    if (problem != last_problem_) {
        if (problem.empty()) {
            spdlog::info("chronyd: synchronized, serving stratum {} refid {}", s.stratum,
                         proto::refid_to_string(s.refid, s.stratum));
        } else {
            spdlog::warn("{}: answering with LI=3 (unsynchronized) unless held over", problem);
        }
        last_problem_ = problem;
    }
    return s;
}

std::string ChronyClockSource::describe() const {
    return "chrony (tracking through " + chrony_.where() + ")";
}

}  // namespace cloudtime::server
