#include "server/tenant_channel.hpp"

#include <spdlog/spdlog.h>

#include "sys/fd_passing.hpp"

namespace cloudtime::server {

namespace {
class ChannelSink final : public TenantSink {
  public:
    explicit ChannelSink(int channel) : channel_(channel) {}
    void attached(const std::string& ns, const std::string& label, sys::UdpSocket socket) override {
        if (auto s = sys::send_message(channel_, "A\t" + ns + "\t" + label, socket.fd()); !s) {
            spdlog::warn("tenant helper: cannot pass the socket of {}: {}", ns, s.error());
        }
    }  // our copy of the socket closes here; the server holds its own
    void released(const std::string& ns) override {
        [[maybe_unused]] const auto s = sys::send_message(channel_, "R\t" + ns);
    }

  private:
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
        if ((*message)->text == "reconcile") {
            (*tenants)->reconcile();
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
        const std::string& text = message.text;
        const auto first = text.find('\t');
        const auto second = text.find('\t', first + 1);
        if (text.rfind("A\t", 0) == 0 && second != std::string::npos && message.fd.valid()) {
            auto socket = sys::UdpSocket::adopt(std::move(message.fd));
            if (!socket) {
                spdlog::error("tenant networks: the helper sent {}", socket.error());
                continue;
            }
            sink_.attached(text.substr(first + 1, second - first - 1), text.substr(second + 1),
                           std::move(socket).value());
        } else if (text.rfind("R\t", 0) == 0) {
            sink_.released(text.substr(2));
        } else {
            spdlog::error("tenant networks: unexpected message from the helper: '{}'", text);
        }
    }
}

}  // namespace cloudtime::server
