// SPDX-License-Identifier: Apache-2.0
#include "tenant/tenant_channel.hpp"

#include <spdlog/spdlog.h>

#include <string_view>

#include "net/fd_passing.hpp"
#include "tenant/tenant_messages.hpp"

namespace cloudtime::server {

namespace {
class ChannelSink final : public TenantSink {
  public:
    explicit ChannelSink(int channel) : channel_(channel) {}
    void attached(const std::string& ns, const std::string& label, sys::UdpSocket socket) override {
        if (auto s = sys::send_message(channel_, text({Kind::attached, ns, label}), socket.fd());
            !s) {
            spdlog::warn("tenant helper: cannot pass the socket of {}: {}", ns, s.error());
        }
    }  // our copy of the socket closes here; the server holds its own
    void attached_ke(const std::string& ns, const std::string& label,
                     sys::UniqueFd listener) override {
        if (auto s =
                sys::send_message(channel_, text({Kind::attached_ke, ns, label}), listener.get());
            !s) {
            spdlog::warn("tenant helper: cannot pass the NTS-KE listener of {}: {}", ns, s.error());
        }
    }
    void released(const std::string& ns) override {
        [[maybe_unused]] const auto s = sys::send_message(channel_, text({Kind::released, ns, {}}));
    }
    void closed(const std::string& ns, const std::string& label) override {
        [[maybe_unused]] const auto s =
            sys::send_message(channel_, text({Kind::closed, ns, label}));
    }
    void waiting(const std::string& ns, const std::string& what) override {
        [[maybe_unused]] const auto s =
            sys::send_message(channel_, text({Kind::waiting, ns, what}));
    }

  private:
    using Kind = HelperMessage::Kind;
    static std::string text(const HelperMessage& message) { return helper_message_text(message); }
    int channel_;
};
}  // namespace

int run_tenant_helper(TenantNetworkOptions options, sys::UniqueFd channel) {
    ChannelSink sink(channel.get());
    auto tenants = TenantNetworks::start(std::move(options), sink);
    if (!tenants) {
        spdlog::critical("tenant helper: {}", tenants.error());
        return 1;
    }
    for (;;) {
        auto message = sys::receive_message(channel.get());
        if (!message || !*message) {
            break;  // the server closed the channel or is gone
        }
        const std::string& text = (*message)->text;
        if (text == "reconcile") {
            (*tenants)->reconcile();
        } else if (auto next = parse_options_message(text); next) {
            (*tenants)->reconfigure(std::move(next).value());
        } else {
            spdlog::error("tenant helper: from the server: {}", next.error());
        }
    }
    tenants->reset();
    return 0;
}

Expected<std::unique_ptr<TenantChannelReceiver>> TenantChannelReceiver::start(sys::UniqueFd channel,
                                                                              TenantSink& sink) {
    auto lost = sys::Wakeup::create();
    if (!lost) {
        return lost.failure();
    }
    std::unique_ptr<TenantChannelReceiver> r(
        new TenantChannelReceiver(std::move(channel), sink, std::move(lost).value()));
    r->thread_ = std::thread([raw = r.get()] { raw->run(); });
    return r;
}

TenantChannelReceiver::~TenantChannelReceiver() {
    stopping_ = true;
    sys::shut_channel(channel_.get());  // wakes the thread with EOF; the helper exits
    if (thread_.joinable()) {
        thread_.join();
    }
}

void TenantChannelReceiver::reconcile() const {
    [[maybe_unused]] const auto s = sys::send_message(channel_.get(), "reconcile");
}

Status TenantChannelReceiver::reconfigure(const TenantNetworkOptions& options) const {
    if (auto sent = sys::send_message(channel_.get(), options_message(options)); !sent) {
        return Error{"cannot pass the tenant network settings to the privileged helper: " +
                     sent.error()};
    }
    return Done{};
}

void TenantChannelReceiver::run() {
    for (;;) {
        auto received = sys::receive_message(channel_.get());
        if (!received || !*received) {
            if (!stopping_) {  // the helper went away on its own: whoever waits must know
                if (!received) {
                    spdlog::error("tenant networks: {}", received.error());
                }
                lost_.signal();
            }
            return;
        }
        sys::ChannelMessage& message = **received;
        const auto parsed = parse_helper_message(message.text, message.fd.valid());
        if (!parsed) {
            spdlog::error("tenant networks: unexpected message from the helper: '{}'",
                          message.text.substr(0, 200));
            continue;
        }
        switch (parsed->kind) {
            case HelperMessage::Kind::attached: {
                auto socket = sys::UdpSocket::adopt(std::move(message.fd));
                if (!socket) {
                    spdlog::error("tenant networks: the helper sent {}", socket.error());
                    continue;
                }
                sink_.attached(parsed->ns, parsed->label, std::move(socket).value());
                break;
            }
            case HelperMessage::Kind::attached_ke:
                sink_.attached_ke(parsed->ns, parsed->label, std::move(message.fd));
                break;
            case HelperMessage::Kind::released:
                sink_.released(parsed->ns);
                break;
            case HelperMessage::Kind::closed:
                sink_.closed(parsed->ns, parsed->label);
                break;
            case HelperMessage::Kind::waiting:
                sink_.waiting(parsed->ns, parsed->label);
                break;
        }
    }
}

}  // namespace cloudtime::server
