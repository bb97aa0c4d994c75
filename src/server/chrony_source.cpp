#include "server/chrony_source.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <random>

#include "proto/refid.hpp"

namespace cloudtime::server {

namespace {
// Well inside the clock thread's one-second period, so that loss shows within 2 s.
constexpr int kReplyTimeoutMs = 500;
constexpr std::uint16_t kMaxUpstreamStratum = 14;  // we serve one more; 16 is unsynchronized

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}
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

ChronyClockSource::ChronyClockSource(std::string socket_path, std::int8_t precision)
    : socket_path_(std::move(socket_path)), precision_(precision) {
    std::random_device device;
    sequence_ = device();
}

Expected<proto::ChronyTracking> ChronyClockSource::query() {
    if (!client_) {
        auto client =
            sys::UnixDatagramClient::connect(socket_path_, directory_of(socket_path_), "cloudtimed");
        if (!client) {
            return Error{client.error()};
        }
        client_.emplace(std::move(client).value());
    }
    const std::uint32_t sequence = ++sequence_;
    const auto request = proto::make_chrony_tracking_request(sequence);
    std::array<std::uint8_t, 512> reply{};
    auto length = client_->exchange(request, reply, kReplyTimeoutMs);
    if (!length) {
        client_.reset();  // chronyd may have restarted: connect afresh next time
        return Error{length.error()};
    }
    return proto::parse_chrony_tracking_reply(std::span(reply).first(*length), sequence);
}

proto::ClockSnapshot ChronyClockSource::refresh(proto::UnixTime /*now*/) {
    auto tracking = query();
    std::string problem;
    proto::ClockSnapshot s;
    s.precision = precision_;
    if (!tracking) {
        problem = "chronyd at " + socket_path_ + ": " + tracking.error();
    } else {
        s = snapshot_from_chrony(*tracking, precision_);
        if (!s.synchronized) {
            problem = "chronyd is not synchronized";
        }
    }
    if (problem != last_problem_) {
        if (problem.empty()) {
            spdlog::info("chronyd: synchronized, serving stratum {} refid {}", s.stratum,
                         proto::refid_to_string(s.refid, s.stratum));
        } else {
            spdlog::warn("{}: answering with LI=3 (unsynchronized)", problem);
        }
        last_problem_ = problem;
    }
    return s;
}

std::string ChronyClockSource::describe() const {
    return "chrony (tracking through " + socket_path_ + ")";
}

}  // namespace cloudtime::server
