// SPDX-License-Identifier: Apache-2.0
#include "peers/chrony_control.hpp"

#include <algorithm>

#include <array>
#include <cerrno>
#include <random>

namespace cloudtime::sys {

namespace {
std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

ChronyControl::ChronyControl(std::string socket_path, std::string client_directory)
    : socket_path_(std::move(socket_path)),
      client_directory_(client_directory.empty() ? directory_of(socket_path_)
                                                 : std::move(client_directory)),
      where_(socket_path_) {}

ChronyControl::ChronyControl(const SocketAddress& command_port)
    : command_port_(command_port), where_("udp " + command_port.to_string()) {}

std::vector<std::string> ChronyControl::remove_stale_clients(const std::string& client_directory) {
    return sys::remove_stale_clients(client_directory, kClientPrefix);
}

std::uint32_t ChronyControl::first_sequence() {
    std::random_device device;
    return device();
}

Expected<std::span<const std::uint8_t>> ChronyControl::exchange(
    std::span<const std::uint8_t> request, int timeout_ms) {
    // A send refused on a connection that worked means chronyd restarted (its socket is a new
    // one): connect to the new socket and ask again at once, not at the next refresh.
    const bool reused = client_.has_value();
    auto reply = exchange_once(request, timeout_ms);
    if (!reply && reused && reply.error_code() != ETIMEDOUT) {
        reply = exchange_once(request, timeout_ms);
    }
    return reply;
}

Expected<std::span<const std::uint8_t>> ChronyControl::exchange_once(
    std::span<const std::uint8_t> request, int timeout_ms) {
    if (!client_) {
        auto client = command_port_ ? DatagramClient::connect_udp(*command_port_)
                                    : DatagramClient::connect_unix(socket_path_, client_directory_,
                                                                   kClientPrefix);
        if (!client) {
            return client.failure();
        }
        client_.emplace(std::move(client).value());
    }
    auto length = client_->exchange(request, reply_, timeout_ms);
    if (!length) {
        client_.reset();
        return length.failure();
    }
    return std::span<const std::uint8_t>(reply_).first(*length);
}

Expected<proto::ChronyTracking> ChronyControl::tracking(int timeout_ms) {
    const std::uint32_t sequence = ++sequence_;
    auto reply = exchange(proto::make_chrony_tracking_request(sequence), timeout_ms);
    if (!reply) {
        return reply.failure();
    }
    return proto::parse_chrony_tracking_reply(*reply, sequence);
}

Expected<proto::ChronyAuthData> ChronyControl::auth_data(const proto::ChronySource& source,
                                                         int timeout_ms) {
    const std::uint32_t sequence = ++sequence_;
    auto reply = exchange(
        proto::make_chrony_auth_data_request(sequence, source.family, source.address), timeout_ms);
    if (!reply) {
        return reply.failure();
    }
    return proto::parse_chrony_auth_data_reply(*reply, sequence);
}

Expected<std::vector<proto::ChronySource>> ChronyControl::sources(int timeout_ms) {
    std::uint32_t sequence = ++sequence_;
    auto reply = exchange(proto::make_chrony_n_sources_request(sequence), timeout_ms);
    if (!reply) {
        return reply.failure();
    }
    auto count = proto::parse_chrony_n_sources_reply(*reply, sequence);
    if (!count) {
        return count.failure();
    }
    constexpr std::uint32_t kMaxSources = 256;  // more than any chrony.conf has
    std::vector<proto::ChronySource> sources;
    for (std::uint32_t i = 0; i < std::min(*count, kMaxSources); ++i) {
        sequence = ++sequence_;
        reply =
            exchange(proto::make_chrony_source_data_request(sequence, static_cast<std::int32_t>(i)),
                     timeout_ms);
        if (!reply) {
            return reply.failure();
        }
        auto source = proto::parse_chrony_source_data_reply(*reply, sequence);
        if (!source) {
            return source.failure();
        }
        sources.push_back(*source);
    }
    return sources;
}

}  // namespace cloudtime::sys
