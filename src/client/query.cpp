#include "client/query.hpp"

#include <chrono>
#include <random>
#include <thread>

#include "sys/clock.hpp"
#include "sys/poller.hpp"
#include "sys/udp_socket.hpp"

namespace cloudtime::client {

bool rate_limited(const QueryResult& result) {
    return result.rejection && result.rejection->verdict == proto::ReplyVerdict::kiss_of_death &&
           result.rejection->header.refid == proto::kKissRate;
}

namespace {

std::uint64_t random_nonce() {
    std::random_device device;  // the kernel's CSPRNG on Linux
    const std::uint64_t high = device();
    const std::uint64_t low = device();
    return (high << 32U) | low;
}

struct Outcome {
    enum Kind : std::uint8_t { sample, rejected, lost } kind = lost;
    proto::Sample value;
    Rejection rejection;
};

Expected<Outcome> exchange(const sys::UdpSocket& socket, double timeout_s,
                           std::int8_t client_precision) {
    const std::uint64_t nonce = random_nonce();
    const auto request = proto::make_client_request(nonce);
    const proto::UnixTime t1 = sys::realtime_now();
    if (socket.send(request) == sys::IoStatus::error) {
        return sys::os_error("send");
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    std::array<std::uint8_t, 1024> buffer{};
    sys::Datagram datagram;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !sys::wait_readable(socket.fd(), static_cast<int>(left.count()))) {
            return Outcome{};
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
        const proto::ReplyVerdict verdict = proto::check_reply(*header, proto::NtpTimestamp{nonce});
        if (verdict == proto::ReplyVerdict::origin_mismatch ||
            verdict == proto::ReplyVerdict::not_server_mode) {
            continue;  // not an answer to this request
        }
        if (verdict != proto::ReplyVerdict::ok) {
            return Outcome{Outcome::rejected, {}, Rejection{verdict, *header}};
        }
        return Outcome{Outcome::sample,
                       proto::make_sample(*header, t1, datagram.kernel_receive, client_precision),
                       {}};
    }
}

}  // namespace

Expected<QueryResult> query_server(const sys::SocketAddress& server, const QueryOptions& options) {
    auto socket = sys::UdpSocket::connect(server);
    if (!socket) {
        return socket.failure();
    }
    const std::int8_t precision = proto::precision_exponent(sys::measure_clock_precision());
    QueryResult result;
    result.server = server;
    for (int i = 0; i < options.samples; ++i) {
        if (i > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(options.interval_s));
        }
        ++result.sent;
        auto outcome = exchange(*socket, options.timeout_s, precision);
        if (!outcome) {
            return outcome.failure();
        }
        if (outcome->kind == Outcome::lost) {
            ++result.lost;
        } else if (outcome->kind == Outcome::rejected) {
            result.rejection = outcome->rejection;
            break;  // a KoD means stop; an unsynchronized server will not improve in a second
        } else {
            result.samples.push_back(outcome->value);
            if (options.until_first_answer) {
                break;
            }
        }
    }
    result.summary = proto::summarize(result.samples);
    return result;
}

}  // namespace cloudtime::client
