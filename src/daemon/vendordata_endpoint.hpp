// The [vendordata] role's answers: what Nova's DynamicJSON vendordata provider gets for each
// request. Nova POSTs the instance's facts; the answer is the JSON value cloud-init reads under
// the target name "cloud-init" (vendor_data2.json). The HTTP server around it
// (sys/http_server) runs in its own unprivileged process (daemon/vendordata_process).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "sys/http_server.hpp"

namespace cloudtime::daemon {

using config::Config;  // the daemon runs what the config schema describes

class VendordataEndpoint {
  public:
    explicit VendordataEndpoint(Config::Vendordata config) : config_(std::move(config)) {}

    sys::HttpResponse answer(const sys::HttpRequest& request) const;
    // Whether vendordata.allowed_clients lets `client` in (logs a refusal, at most once a
    // second with the number of the others).
    bool allowed(const sys::SocketAddress& client);
    // An error the way every answer of this endpoint is written: {"error": why}.
    static sys::HttpResponse error(int status, const std::string& why);

  private:
    Config::Vendordata config_;
    std::chrono::steady_clock::time_point last_refusal_logged_{};
    std::uint64_t refusals_unlogged_ = 0;
};

}  // namespace cloudtime::daemon
