// SPDX-License-Identifier: Apache-2.0
#include "client/query.hpp"

#include <chrono>
#include <thread>

#include "client/random.hpp"
#include "net/tx_timestamps.hpp"
#include "net/udp_socket.hpp"
#include "sys/clock.hpp"
#include "sys/poller.hpp"

namespace cloudtime::client {

bool rate_limited(const QueryResult& result) {
    return result.rejection && result.rejection->verdict == proto::ReplyVerdict::kiss_of_death &&
           result.rejection->header.refid == proto::kKissRate;
}

namespace {

// What an interleaved request names: the exchange before it.
struct Previous {
    proto::NtpTimestamp server_receive;  // T2, from its reply
    proto::UnixTime t1;                  // ours: the kernel's stamp when there is one
    bool kernel_t1 = false;
    proto::UnixTime t4;
};

struct Outcome {
    enum Kind : std::uint8_t { sample, rejected, lost } kind = lost;
    int unauthenticated = 0;  // replies that did not verify, ignored
    proto::Sample value;
    bool interleaved = false;  // `value` is the previous exchange, completed by this reply
    Rejection rejection;
    std::optional<Previous> next;  // what the next interleaved request names
};

// How long the kernel may take to stamp our request before T1 falls back to our reading.
constexpr int kStampWaitMs = 10;

// The request: basic (a random nonce as its transmit time) or interleaved (naming the previous
// exchange), with NTS fields when there is a session. Its length.
Expected<std::size_t> write_request(std::span<std::uint8_t> packet, std::uint64_t nonce,
                                    const std::optional<Previous>& previous, NtsSession* nts,
                                    NtsRequestState& nts_state) {
    const auto header_only = previous
                                 ? proto::make_interleaved_request(nonce, previous->server_receive,
                                                                   proto::to_ntp(previous->t4))
                                 : proto::make_client_request(nonce);
    std::copy(header_only.begin(), header_only.end(), packet.begin());
    if (nts == nullptr) {
        return header_only.size();
    }
    return add_nts_fields(*nts, nts_state, packet);
}

// What a verified reply to the request sent at `t1` (`kernel_t1` by the kernel's stamp) gives:
// a sample of this exchange, or in interleaved mode of the previous one, completed by it.
Outcome sample_of(const proto::Header& header, bool interleaved, int unauthenticated,
                  const std::optional<Previous>& previous, proto::UnixTime t1,
                  std::optional<proto::UnixTime> kernel_t1, const sys::Datagram& datagram,
                  std::int8_t client_precision, const QueryOptions& options) {
    Outcome outcome{Outcome::sample, unauthenticated, {}, interleaved, {}, std::nullopt};
    if (interleaved) {
        // The previous exchange, whole: its T1, T2 and T4, and its T3 from this reply.
        proto::Header completed = header;
        completed.receive = previous->server_receive;
        outcome.value = proto::make_sample(completed, previous->t1, previous->t4, client_precision);
    } else {
        outcome.value = proto::make_sample(header, t1, datagram.kernel_receive, client_precision);
    }
    if (options.interleaved) {
        outcome.next = Previous{header.receive, kernel_t1.value_or(t1), kernel_t1.has_value(),
                                datagram.kernel_receive};
    }
    return outcome;
}

Expected<Outcome> exchange(const sys::UdpSocket& socket, double timeout_s,
                           std::int8_t client_precision, const QueryOptions& options,
                           const std::optional<Previous>& previous, std::uint32_t& stamps,
                           NtsSession* nts) {
    const std::uint64_t nonce = random_u64();
    std::array<std::uint8_t, 1024> packet{};
    NtsRequestState nts_state;
    const auto length = write_request(packet, nonce, previous, nts, nts_state);
    if (!length) {
        return length.failure();
    }
    const std::span<const std::uint8_t> request(packet.data(), *length);
    const proto::NtpTimestamp interleaved_origin =
        previous ? proto::to_ntp(previous->t4) : proto::NtpTimestamp{};
    const proto::UnixTime t1 = sys::realtime_now();
    if (socket.send(request, options.interleaved) == sys::IoStatus::error) {
        return sys::os_error("send");
    }
    std::optional<proto::UnixTime> kernel_t1;
    if (options.interleaved) {
        kernel_t1 = sys::wait_transmit_stamp(socket.fd(), stamps++, kStampWaitMs);
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    std::array<std::uint8_t, 2048> buffer{};
    int unauthenticated = 0;
    sys::Datagram datagram;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !sys::wait_readable(socket.fd(), static_cast<int>(left.count()))) {
            Outcome lost;
            lost.unauthenticated = unauthenticated;
            return lost;
        }
        const sys::IoStatus status = socket.receive(buffer, datagram);
        if (status == sys::IoStatus::would_block) {
            continue;
        }
        if (status == sys::IoStatus::error) {
            // ECONNREFUSED and friends: the port is closed or unreachable.
            return sys::os_error("receive");
        }
        const auto header = proto::decode_header(std::span(buffer).first(datagram.size));
        if (!header) {
            continue;  // not NTP: keep waiting for the real answer
        }
        // An interleaved answer echoes our previous receive time; a basic one the nonce.
        const bool interleaved = previous && header->origin == interleaved_origin;
        const proto::ReplyVerdict verdict = proto::check_reply(
            *header, interleaved ? interleaved_origin : proto::NtpTimestamp{nonce});
        if (verdict == proto::ReplyVerdict::origin_mismatch ||
            verdict == proto::ReplyVerdict::not_server_mode) {
            continue;  // not an answer to this request
        }
        if (nts != nullptr) {
            // Only what verifies counts; a NAK needs our unique identifier only (RFC 8915).
            const bool nak = verdict == proto::ReplyVerdict::kiss_of_death &&
                             header->refid == proto::kKissNtsNak;
            if (!accept_nts_reply(*nts, nts_state, std::span(buffer).first(datagram.size), nak)) {
                ++unauthenticated;
                continue;
            }
        }
        if (verdict != proto::ReplyVerdict::ok) {
            return Outcome{Outcome::rejected,           unauthenticated, {}, false,
                           Rejection{verdict, *header}, std::nullopt};
        }
        return sample_of(*header, interleaved, unauthenticated, previous, t1, kernel_t1, datagram,
                         client_precision, options);
    }
}

}  // namespace

Expected<QueryResult> query_server(const sys::SocketAddress& server, const QueryOptions& options,
                                   NtsSession* nts) {
    auto socket = sys::UdpSocket::connect(server, options.interleaved);
    if (!socket) {
        return socket.failure();
    }
    const std::int8_t precision = proto::precision_exponent(sys::measure_clock_precision());
    QueryResult result;
    result.server = server;
    std::optional<Previous> previous;
    std::uint32_t stamps = 0;
    // Interleaved: the first answer starts the chain and measures nothing yet.
    bool started = !options.interleaved;
    for (int i = 0; i < options.samples + (options.interleaved ? 1 : 0); ++i) {
        if (i > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(options.interval_s));
        }
        ++result.sent;
        auto outcome =
            exchange(*socket, options.timeout_s, precision, options, previous, stamps, nts);
        if (!outcome) {
            return outcome.failure();
        }
        result.unauthenticated += outcome->unauthenticated;
        if (outcome->kind == Outcome::lost) {
            ++result.lost;
            previous.reset();  // the chain starts again
            started = !options.interleaved;
        } else if (outcome->kind == Outcome::rejected) {
            result.rejection = outcome->rejection;
            break;  // a KoD means stop; an unsynchronized server will not improve in a second
        } else {
            const bool kernel_t1 = outcome->interleaved && previous && previous->kernel_t1;
            previous = outcome->next;
            ++result.answered;
            if (!started) {
                started = true;
                continue;
            }
            result.samples.push_back(outcome->value);
            result.interleaved.push_back(outcome->interleaved);
            result.kernel_transmit += kernel_t1 ? 1 : 0;
            result.authenticated += nts != nullptr ? 1 : 0;
            if (options.until_first_answer) {
                break;
            }
        }
    }
    result.summary = proto::summarize(result.samples);
    return result;
}

}  // namespace cloudtime::client
