#include "server/tenant_channel.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <string_view>

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
    void attached_ke(const std::string& ns, const std::string& label,
                     sys::UniqueFd listener) override {
        if (auto s = sys::send_message(channel_, "K\t" + ns + "\t" + label, listener.get()); !s) {
            spdlog::warn("tenant helper: cannot pass the NTS-KE listener of {}: {}", ns, s.error());
        }
    }
    void released(const std::string& ns) override {
        [[maybe_unused]] const auto s = sys::send_message(channel_, "R\t" + ns);
    }
    void closed(const std::string& ns, const std::string& label) override {
        [[maybe_unused]] const auto s = sys::send_message(channel_, "C\t" + ns + "\t" + label);
    }
    void waiting(const std::string& ns, const std::string& what) override {
        [[maybe_unused]] const auto s = sys::send_message(channel_, "W\t" + ns + "\t" + what);
    }

  private:
    int channel_;
};
constexpr std::string_view kOptionsMessage = "options\t";

nlohmann::json address_list(const std::vector<sys::SocketAddress>& addresses) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& a : addresses) {
        out.push_back(a.to_string());
    }
    return out;
}

Expected<std::vector<sys::SocketAddress>> parse_address_list(const nlohmann::json& list) {
    std::vector<sys::SocketAddress> out;
    for (const auto& item : list) {
        auto parsed = sys::parse_socket_address(item.get<std::string>());
        if (!parsed) {
            return parsed.failure();
        }
        out.push_back(*parsed);
    }
    return out;
}
}  // namespace

std::string options_message(const TenantNetworkOptions& o) {
    const nlohmann::json j{
        {"netns_dir", o.netns_dir},
        {"patterns", o.patterns},
        {"addresses", address_list(o.addresses)},
        {"managed", address_list(o.managed)},
        {"router_patterns", o.router_patterns},
        {"router",
         {{"destinations", address_list(o.router.destinations)},
          {"interfaces", o.router.interfaces},
          {"local_port", o.router.local_port}}},
        {"receive_buffer", o.receive_buffer},
        {"nts_ke_port", o.nts_ke_port},
    };
    return std::string(kOptionsMessage) + j.dump();
}

Expected<TenantNetworkOptions> parse_options_message(std::string_view text) {
    if (text.substr(0, kOptionsMessage.size()) != kOptionsMessage) {
        return Error{"not an options message"};
    }
    const auto j = nlohmann::json::parse(text.substr(kOptionsMessage.size()), nullptr, false);
    if (!j.is_object()) {
        return Error{"options that are not a JSON object"};
    }
    try {
        TenantNetworkOptions o;
        o.netns_dir = j.at("netns_dir").get<std::string>();
        o.patterns = j.at("patterns").get<std::vector<std::string>>();
        o.router_patterns = j.at("router_patterns").get<std::vector<std::string>>();
        o.router.interfaces = j.at("router").at("interfaces").get<std::string>();
        o.router.local_port = j.at("router").at("local_port").get<std::uint16_t>();
        o.receive_buffer = j.at("receive_buffer").get<int>();
        o.nts_ke_port = j.at("nts_ke_port").get<std::uint16_t>();
        auto addresses = parse_address_list(j.at("addresses"));
        auto managed = parse_address_list(j.at("managed"));
        auto destinations = parse_address_list(j.at("router").at("destinations"));
        if (!addresses || !managed || !destinations) {
            return Error{"options with a bad address"};
        }
        o.addresses = std::move(addresses).value();
        o.managed = std::move(managed).value();
        o.router.destinations = std::move(destinations).value();
        return o;
    } catch (const nlohmann::json::exception& e) {
        return Error{std::string("options with a missing or mistyped field: ") + e.what()};
    }
}

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
        } else if (text.rfind("K\t", 0) == 0 && second != std::string::npos && message.fd.valid()) {
            sink_.attached_ke(text.substr(first + 1, second - first - 1), text.substr(second + 1),
                              std::move(message.fd));
        } else if (text.rfind("R\t", 0) == 0) {
            sink_.released(text.substr(2));
        } else if (text.rfind("C\t", 0) == 0 && second != std::string::npos) {
            sink_.closed(text.substr(first + 1, second - first - 1), text.substr(second + 1));
        } else if (text.rfind("W\t", 0) == 0 && second != std::string::npos) {
            sink_.waiting(text.substr(first + 1, second - first - 1), text.substr(second + 1));
        } else {
            spdlog::error("tenant networks: unexpected message from the helper: '{}'", text);
        }
    }
}

}  // namespace cloudtime::server
