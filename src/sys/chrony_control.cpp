#include "sys/chrony_control.hpp"

#include <array>
#include <random>

namespace cloudtime::sys {

namespace {
std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

ChronyControl::ChronyControl(std::string socket_path) : socket_path_(std::move(socket_path)) {
    std::random_device device;
    sequence_ = device();
}

Expected<proto::ChronyTracking> ChronyControl::tracking(int timeout_ms) {
    if (!client_) {
        auto client =
            UnixDatagramClient::connect(socket_path_, directory_of(socket_path_), "cloudtime");
        if (!client) {
            return Error{client.error()};
        }
        client_.emplace(std::move(client).value());
    }
    const std::uint32_t sequence = ++sequence_;
    const auto request = proto::make_chrony_tracking_request(sequence);
    std::array<std::uint8_t, 512> reply{};
    auto length = client_->exchange(request, reply, timeout_ms);
    if (!length) {
        client_.reset();
        return Error{length.error()};
    }
    return proto::parse_chrony_tracking_reply(std::span(reply).first(*length), sequence);
}

}  // namespace cloudtime::sys
