// SPDX-License-Identifier: Apache-2.0
#include "client/load_generator.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "net/datagram_batch.hpp"
#include "net/multi_source_sender.hpp"
#include "net/udp_socket.hpp"
#include "proto/aes_siv.hpp"
#include "proto/client_sample.hpp"
#include "proto/nts_fields.hpp"
#include "proto/refid.hpp"
#include "sys/clock.hpp"
#include "sys/poller.hpp"

namespace cloudtime::client {

namespace {

constexpr std::size_t kBatch = 64;
// Replies pile up while a thread sends; a short receive buffer would count them as lost.
constexpr int kReceiveBuffer = 8 << 20;
// What an interleaved-looking request carries as its receive field: anything unlike its
// origin and transmit.
constexpr std::uint64_t kReceiveMark = 0x00FF'FF00'0000'0000ULL;
constexpr std::size_t kRingBits = 20;  // send times kept for the last 2^20 requests per thread
constexpr std::size_t kRingMask = (std::size_t{1} << kRingBits) - 1;
constexpr std::size_t kMaxKeptSamples = 20'000'000;  // per thread, bounds memory
// 127.1.0.1 .. 127.255.255.254: never 127.0.0.0/16, where the real clients a benchmark or
// test watches beside the load ask from (127.0.0.1); they must not share its rate limits.
constexpr std::uint32_t kFirstSource = 0x7F01'0001U;
constexpr std::uint32_t kMaxSources = 0x7FFF'FFFEU - kFirstSource + 1;
// An NTS request: header, unique identifier, one cookie, the authenticator (and room to spare).
constexpr std::size_t kMaxRequest = 512;

using Clock = std::chrono::steady_clock;

struct ThreadResult {
    std::uint64_t sent = 0;
    std::uint64_t send_failures = 0;
    std::uint64_t answered = 0;
    std::uint64_t kod = 0;
    std::uint64_t nts_naks = 0;
    std::uint64_t unauthenticated = 0;
    double sending_s = 0.0;  // from the common start to this thread's last send
    std::vector<std::int64_t> latency_ns;
    std::vector<std::int64_t> processing_ns;
    std::string error;
};

bool is_link_local(const sys::SocketAddress& a) {
    if (a.is_ipv6()) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(a.sockaddr_ptr());
        return IN6_IS_ADDR_LINKLOCAL(&v6->sin6_addr);
    }
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(a.sockaddr_ptr());
    return (ntohl(v4->sin_addr.s_addr) >> 16U) == 0xA9FEU;  // 169.254.0.0/16
}

class Worker {
  public:
    Worker(const sys::SocketAddress& target, const LoadOptions& o, unsigned index)
        : target_(target),
          options_(o),
          index_(index),
          rate_(o.rate / o.threads),
          ring_(kRingMask + 1, 0),
          receiver_(kBatch, 256),
          sender_(kBatch, target) {}

    ThreadResult run() {
        auto wildcard = sys::parse_socket_address(target_.is_ipv6() ? "[::]:0" : "0.0.0.0:0");
        auto socket = sys::UdpSocket::bind(
            *wildcard,
            {.reuse_port = false, .nonblocking = true, .receive_buffer = kReceiveBuffer});
        if (!socket) {
            result_.error = socket.error();
            return std::move(result_);
        }
        const auto expected = static_cast<std::size_t>(rate_ * options_.duration_s) + kBatch;
        result_.latency_ns.reserve(std::min(expected, kMaxKeptSamples));
        result_.processing_ns.reserve(std::min(expected, kMaxKeptSamples));

        const auto start = Clock::now();
        const auto end = start + std::chrono::duration<double>(options_.duration_s);
        const auto total = static_cast<std::uint64_t>(std::llround(rate_ * options_.duration_s));
        for (auto now = start; now < end && attempted_ < total; now = Clock::now()) {
            const double elapsed = std::chrono::duration<double>(now - start).count();
            auto due =
                std::min<std::uint64_t>(static_cast<std::uint64_t>(rate_ * elapsed) + 1, total);
            while (attempted_ < due) {
                send_batch(*socket, std::min<std::uint64_t>(due - attempted_, kBatch));
            }
            const bool got = receive_all(*socket);
            if (!got) {
                // Sleep until the next request is due, or a reply arrives.
                const double next = static_cast<double>(attempted_ + 1) / rate_ - elapsed;
                sys::wait_readable_ns(socket->fd(),
                                      static_cast<std::int64_t>(std::clamp(next, 0.0, 0.01) * 1e9));
            }
        }
        while (attempted_ < total) {  // the loop ended on time with a partial batch due
            send_batch(*socket, std::min<std::uint64_t>(total - attempted_, kBatch));
        }
        result_.sending_s = std::chrono::duration<double>(Clock::now() - start).count();
        const auto drain_end = Clock::now() + std::chrono::duration<double>(options_.drain_s);
        while (Clock::now() < drain_end) {
            if (!receive_all(*socket)) {
                sys::wait_readable_ns(socket->fd(), 10'000'000);
            }
        }
        return std::move(result_);
    }

  private:
    void send_batch(const sys::UdpSocket& socket, std::uint64_t n) {
        const proto::UnixTime now = sys::realtime_now();
        for (std::uint64_t k = 0; k < n; ++k) {
            const std::uint64_t seq = attempted_ + k;
            const std::uint64_t nonce = (static_cast<std::uint64_t>(index_) << 56U) | seq;
            const auto header =
                options_.interleaved
                    ? proto::make_interleaved_request(nonce, proto::NtpTimestamp{~nonce},
                                                      proto::NtpTimestamp{nonce ^ kReceiveMark})
                    : proto::make_client_request(nonce);
            std::copy(header.begin(), header.end(), requests_[k].begin());
            std::size_t length = header.size();
            if (options_.nts != nullptr) {
                length = add_nts(requests_[k], nonce);
                if (length == 0) {
                    ++result_.send_failures;
                    continue;
                }
            }
            ring_[seq & kRingMask] = now.ns;
            const std::uint64_t client = seq * options_.threads + index_;
            const std::uint32_t source =
                target_.is_ipv6() || options_.sources <= 1
                    ? 0
                    : kFirstSource + static_cast<std::uint32_t>(client % options_.sources);
            sender_.add(std::span(requests_[k]).first(length), source);
        }
        const std::size_t queued = sender_.queued();
        const std::size_t sent = sender_.flush(socket);
        result_.sent += sent;
        result_.send_failures += queued - sent;
        attempted_ += n;
    }

    // A request's NTS identifiers follow from its nonce (the reply's origin names it back):
    // unique across the run, and nothing to remember per request.
    static std::array<std::uint8_t, proto::kMinUniqueIdLength> unique_id_of(std::uint64_t nonce) {
        std::array<std::uint8_t, proto::kMinUniqueIdLength> id{};
        for (std::size_t i = 0; i < id.size(); ++i) {
            id[i] = static_cast<std::uint8_t>(nonce >> (8U * (i % 8U)));
        }
        id[8] ^= 0x5AU;  // not the nonce repeated: a distinct value per field
        return id;
    }

    std::size_t add_nts(std::array<std::uint8_t, kMaxRequest>& request, std::uint64_t nonce) {
        const auto id = unique_id_of(nonce);
        std::array<std::uint8_t, proto::kNtsNonceLength> siv_nonce{};
        std::copy(id.begin() + 8, id.begin() + 8 + siv_nonce.size(), siv_nonce.begin());
        return proto::append_nts_request(siv_, options_.nts->keys.c2s, request, id,
                                         options_.nts->cookies.front(), 0, siv_nonce);
    }

    // NTS: whether the reply verifies with the S2C key (counted as a NAK when it is one).
    bool authentic(std::span<const std::uint8_t> payload, std::uint64_t nonce, bool kiss) {
        const auto id = unique_id_of(nonce);
        const auto read = proto::read_nts_reply(siv_, options_.nts->keys.s2c, payload, id, kiss);
        if (read.status == proto::NtsReplyRead::Status::nak) {
            ++result_.nts_naks;
        }
        return read.status == proto::NtsReplyRead::Status::authentic;
    }

    bool receive_all(const sys::UdpSocket& socket) {
        bool any = false;
        while (receiver_.receive(socket) == sys::IoStatus::ok) {
            any = true;
            for (std::size_t i = 0; i < receiver_.size(); ++i) {
                account(receiver_.payload(i), receiver_.datagram(i));
            }
        }
        return any;
    }

    void account(std::span<const std::uint8_t> payload, const sys::Datagram& d) {
        const auto h = proto::decode_header(payload);
        if (!h || h->mode != proto::Mode::server) {
            return;
        }
        const std::uint64_t nonce = h->origin.raw;
        const std::uint64_t seq = nonce & ((std::uint64_t{1} << 56U) - 1);
        if ((nonce >> 56U) != index_ || seq >= attempted_) {
            return;  // not ours
        }
        const bool kiss = h->stratum == 0 && proto::is_kiss_code(h->refid);
        if (options_.nts != nullptr &&
            !authentic(payload, nonce, kiss && h->refid == proto::kKissNtsNak) && !kiss) {
            ++result_.unauthenticated;
            return;
        }
        if (kiss) {
            ++result_.kod;
            return;
        }
        ++result_.answered;
        if (result_.latency_ns.size() >= kMaxKeptSamples || attempted_ - seq > kRingMask) {
            return;  // its send time has left the ring
        }
        result_.latency_ns.push_back(d.kernel_receive.ns - ring_[seq & kRingMask]);
        const proto::UnixTime t2 = proto::to_unix(h->receive, d.kernel_receive);
        const proto::UnixTime t3 = proto::to_unix(h->transmit, d.kernel_receive);
        result_.processing_ns.push_back(t3.ns - t2.ns);
    }

    sys::SocketAddress target_;
    LoadOptions options_;
    std::uint64_t index_;
    double rate_;
    std::uint64_t attempted_ = 0;
    std::vector<std::int64_t> ring_;
    std::array<std::array<std::uint8_t, kMaxRequest>, kBatch> requests_{};
    proto::AesSiv siv_;
    sys::DatagramBatch receiver_;
    sys::MultiSourceSender sender_;
    ThreadResult result_;
};

Percentiles percentiles(std::vector<std::int64_t>& values) {
    Percentiles p;
    if (values.empty()) {
        return p;
    }
    auto at = [&](double q) {
        const auto k = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1));
        std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k),
                         values.end());
        return static_cast<double>(values[k]) / 1e9;
    };
    p.p50_s = at(0.50);
    p.p99_s = at(0.99);
    p.p999_s = at(0.999);
    return p;
}

}  // namespace

Status check_target_allowed(const sys::SocketAddress& target, bool in_private_namespace) {
    if (target.is_loopback()) {
        return Done{};
    }
    if (in_private_namespace && is_link_local(target)) {
        return Done{};
    }
    return Error{"refusing to load " + target.to_string() +
                 ": only loopback targets (127.0.0.0/8, ::1), or link-local ones from inside a "
                 "private network namespace, may be loaded"};
}

Expected<LoadReport> run_load(const sys::SocketAddress& target, const LoadOptions& options) {
    if (auto allowed = check_target_allowed(target, sys::in_private_network_namespace());
        !allowed) {
        return allowed.failure();
    }
    if (options.sources > kMaxSources) {
        return Error{"at most " + std::to_string(kMaxSources) +
                     " sources (127.1.0.1 to 127.255.255.254)"};
    }
    if (target.is_ipv6() && options.sources > 1) {
        return Error{"many source addresses need an IPv4 target (IPv6 loopback is one address)"};
    }
    std::vector<ThreadResult> results(options.threads);
    const auto start = Clock::now();
    {
        std::vector<std::jthread> threads;
        for (unsigned t = 0; t < options.threads; ++t) {
            threads.emplace_back([&, t] { results[t] = Worker(target, options, t).run(); });
        }
    }
    LoadReport report;
    report.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<std::int64_t> latency;
    std::vector<std::int64_t> processing;
    for (auto& r : results) {
        if (!r.error.empty()) {
            return Error{r.error};
        }
        report.sent += r.sent;
        report.send_failures += r.send_failures;
        report.answered += r.answered;
        report.kod += r.kod;
        report.nts_naks += r.nts_naks;
        report.unauthenticated += r.unauthenticated;
        report.sending_s = std::max(report.sending_s, r.sending_s);
        latency.insert(latency.end(), r.latency_ns.begin(), r.latency_ns.end());
        processing.insert(processing.end(), r.processing_ns.begin(), r.processing_ns.end());
    }
    report.lost =
        report.sent - std::min(report.sent, report.answered + report.kod + report.unauthenticated);
    // Over the time the sending really took: a generator behind its rate sends what is due
    // after its duration, and the nominal duration would overstate the rate.
    report.reply_rate = static_cast<double>(report.answered) /
                        (report.sending_s > 0.0 ? report.sending_s : options.duration_s);
    report.latency = percentiles(latency);
    report.server_processing = percentiles(processing);
    return report;
}

}  // namespace cloudtime::client
