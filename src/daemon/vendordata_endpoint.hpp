// The [vendordata] role: an HTTP(S) endpoint for Nova's DynamicJSON vendordata provider.
// Nova POSTs the instance's facts; the answer is the JSON value cloud-init reads under the
// target name "cloud-init" (vendor_data2.json). Requests are served by the HTTP library's own
// threads, never by the NTP workers.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "util/expected.hpp"

namespace httplib {
class Server;
}

namespace cloudtime::daemon {

using config::Config;  // the daemon runs what the config schema describes

class VendordataEndpoint {
  public:
    // Binds (errors say why: address in use, unreadable certificate) and starts serving.
    static Expected<std::unique_ptr<VendordataEndpoint>> start(const Config::Vendordata& config);
    ~VendordataEndpoint();  // stops accepting, finishes, joins
    VendordataEndpoint(const VendordataEndpoint&) = delete;
    VendordataEndpoint& operator=(const VendordataEndpoint&) = delete;

    std::string url() const { return url_; }
    std::uint64_t answered() const { return answered_; }  // 200
    std::uint64_t refused() const { return refused_; }    // 400 and 403

  private:
    explicit VendordataEndpoint(Config::Vendordata config);
    void install_handlers();

    Config::Vendordata config_;
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    std::string url_;
    std::atomic<std::uint64_t> answered_{0};
    std::atomic<std::uint64_t> refused_{0};
};

}  // namespace cloudtime::daemon
