// SPDX-License-Identifier: Apache-2.0
#include "proto/client_sample.hpp"

#include <algorithm>
#include <cmath>

#include "proto/clock_snapshot.hpp"
#include "proto/refid.hpp"

namespace cloudtime::proto {

std::array<std::uint8_t, kHeaderSize> make_client_request(std::uint64_t nonce) {
    std::array<std::uint8_t, kHeaderSize> out{};
    Header h;
    h.leap = Leap::none;
    h.version = 4;
    h.mode = Mode::client;
    h.transmit = NtpTimestamp{nonce};
    encode_header(h, out);
    return out;
}

std::array<std::uint8_t, kHeaderSize> make_interleaved_request(std::uint64_t nonce,
                                                               NtpTimestamp server_receive,
                                                               NtpTimestamp client_receive) {
    std::array<std::uint8_t, kHeaderSize> out = make_client_request(nonce);
    const std::span<std::uint8_t> bytes(out);
    store_u64(bytes.subspan(kOriginOffset, 8), server_receive.raw);
    store_u64(bytes.subspan(kReceiveOffset, 8), client_receive.raw);
    return out;
}

const char* reply_verdict_name(ReplyVerdict verdict) {
    switch (verdict) {
        case ReplyVerdict::ok:
            return "ok";
        case ReplyVerdict::not_server_mode:
            return "not a server reply (mode is not 4)";
        case ReplyVerdict::origin_mismatch:
            return "origin timestamp does not match the request";
        case ReplyVerdict::kiss_of_death:
            return "kiss-of-death";
        case ReplyVerdict::unsynchronized:
            return "server is not synchronized";
        case ReplyVerdict::zero_transmit:
            return "transmit timestamp is zero";
    }
    return "unknown";
}

ReplyVerdict check_reply(const Header& reply, NtpTimestamp request_transmit) {
    if (reply.mode != Mode::server) {
        return ReplyVerdict::not_server_mode;
    }
    if (reply.origin != request_transmit) {
        return ReplyVerdict::origin_mismatch;
    }
    if (reply.stratum == 0 && reply.refid != 0 && is_kiss_code(reply.refid)) {
        return ReplyVerdict::kiss_of_death;
    }
    if (reply.leap == Leap::unsynchronized || reply.stratum == 0 || reply.stratum >= 16) {
        return ReplyVerdict::unsynchronized;
    }
    if (reply.transmit.is_zero()) {
        return ReplyVerdict::zero_transmit;
    }
    return ReplyVerdict::ok;
}

Sample make_sample(const Header& reply, UnixTime t1, UnixTime t4, std::int8_t client_precision) {
    const UnixTime t2 = to_unix(reply.receive, t1);
    const UnixTime t3 = to_unix(reply.transmit, t1);
    Sample s;
    s.header = reply;
    // Differences first, in integers, so that no precision is lost to large absolute times.
    const auto forward = static_cast<double>(t2.ns - t1.ns);
    const auto backward = static_cast<double>(t3.ns - t4.ns);
    s.offset_s = (forward + backward) / 2.0 / 1e9;
    const double delay = static_cast<double>((t4.ns - t1.ns) - (t3.ns - t2.ns)) / 1e9;
    // A delay below the clocks' precision is rounded up to it, as RFC 5905 does.
    const double precision_s = std::ldexp(1.0, reply.precision) + std::ldexp(1.0, client_precision);
    s.delay_s = std::max(delay, std::ldexp(1.0, client_precision));
    s.dispersion_s = precision_s + kDispersionRate * seconds_between(t1, t4);
    return s;
}

std::optional<SampleSummary> summarize(std::span<const Sample> samples) {
    if (samples.empty()) {
        return std::nullopt;
    }
    const auto best =
        std::min_element(samples.begin(), samples.end(),
                         [](const Sample& a, const Sample& b) { return a.delay_s < b.delay_s; });
    SampleSummary summary;
    summary.best_index = static_cast<std::size_t>(best - samples.begin());
    summary.offset_s = best->offset_s;
    summary.delay_s = best->delay_s;
    summary.dispersion_s = best->dispersion_s;
    if (samples.size() > 1) {
        double sum = 0.0;
        for (const Sample& s : samples) {
            const double d = s.offset_s - best->offset_s;
            sum += d * d;
        }
        summary.jitter_s = std::sqrt(sum / static_cast<double>(samples.size() - 1));
    }
    return summary;
}

}  // namespace cloudtime::proto
